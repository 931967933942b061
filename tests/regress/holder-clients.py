"""Clients of one holder: a client that never reads slows neither the
program nor another client; malformed frames drop only that peer; several
clients at once."""
import os
import socket
import struct
import time

from harness import (Env, Client, check, main, wait_for, ATTACH, DATA, ERROR, EXIT, HELLO,
                     INPUT, NOTICE, RESIZE, SCREEN, WELCOME)

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTER = os.path.join(HERE, "progs", "counter.py")


def read_until_line(c, last, what):
    """DATA from c (after its WELCOME) until line number last; returns (offset, bytes, frame types)."""
    parts, types, offset = [], [], None
    want = ("line %09d" % last).encode()
    while not parts or want not in b"".join(parts[-2:]):
        f = c.recv()
        check(f is not None, what + ": cut off")
        types.append(f[0])
        if f[0] == WELCOME:
            offset = struct.unpack_from("<Q", f[1])[0]
            parts = []
        if f[0] == DATA:
            parts.append(f[1])
    return offset, b"".join(parts), types


def flood_with_stuck_client(env, name, lines):
    """A program prints `lines` numbered lines while one attached client reads nothing
    and another reads everything; returns (stuck client, fast client's (offset, data))."""
    env.new(name, "/bin/sh", "-c", "read go; python3 %s %d; read done" % (COUNTER, lines))
    sock = env.sock_path(name)
    stuck = Client(sock, flags=ATTACH)
    stuck.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    fast = Client(sock, flags=ATTACH)
    env.run("send", name, "go", "--enter", check_rc=0)
    offset, got, types = read_until_line(fast, lines - 1, "fast client")
    check(NOTICE not in types, "the fast client fell behind")
    # the holder still answers while the stuck client holds megabytes unread
    info = Client(sock).info()
    check(info["state"] == "running", "holder state %r" % info)
    fast.s.close()
    return stuck, offset, got


def test_stuck_client_does_not_block(env: Env):
    lines = 200000  # about 12 MB through the pty: more than the holder's 8 MiB ring
    stuck, offset, got = flood_with_stuck_client(env, "busy", lines)
    hist = env.history("busy")
    check(hist.count(b"line ") == lines, "history lines: %d" % hist.count(b"line "))
    check(hist[offset:offset + len(got)] == got, "the fast client's output differs from the history")
    check(got.count(b"\n") >= lines, "fast client lost lines: %d" % got.count(b"\n"))
    # the stuck client, once it reads, is brought forward from the log: every byte, in order
    soff, sgot, types = read_until_line(stuck, lines - 1, "stuck client")
    check(NOTICE not in types, "the stuck client was given a fresh screen though the log had it all")
    check(hist[soff:soff + len(sgot)] == sgot, "the stuck client's output differs from the history")
    check(sgot.count(b"line ") == lines, "stuck client lines: %d" % sgot.count(b"line "))
    stuck.s.close()


def test_stuck_client_past_the_log_gets_fresh_screen(env: Env):
    env.env["ROOST_HISTORY_CAP"] = "2000000"  # the log cannot hold what the ring lost
    lines = 200000
    stuck, offset, got = flood_with_stuck_client(env, "busy", lines)
    soff, sgot, types = read_until_line(stuck, lines - 1, "stuck client")
    check(NOTICE in types, "no notice for the skipped output: %r" % sorted(set(types)))
    i = types.index(NOTICE)
    check(types[i + 1:i + 3] == [WELCOME, SCREEN], "a fresh WELCOME and SCREEN follow the notice: %r" % types[i:i + 4])
    # from the fresh screen on, the stuck client gets the output exactly
    hist = env.history("busy")
    # (the history keeps only the cap's worth: compare what both still have)
    k = min(len(sgot), len(hist)) - 4096
    check(k > 500_000 and hist[-k - 4096:].find(sgot[-k:]) >= 0,
          "output after the fresh screen differs from the end of the history")
    stuck.s.close()


def test_malformed_frames_drop_only_that_peer(env: Env):
    env.new("m", "/bin/sh")
    sock = env.sock_path("m")
    good = Client(sock, flags=ATTACH)
    bad_frames = [
        b"\x02\x01\x00\x00\x0c\x00\x00\x00" + b"\x00" * 12,             # version 2
        b"\x01\x63\x00\x00\x00\x00\x00\x00",                             # unknown type
        b"\x01\x01\x01\x00\x0c\x00\x00\x00" + b"\x00" * 12,             # reserved bits
        b"\x01\x04\x00\x00\xff\xff\xff\x7f",                             # huge input
        b"\x01\x01\x00\x00\x03\x00\x00\x00abc",                          # short hello
        b"\x01\x04\x00\x00\x01\x00\x00\x00x",                            # input before hello
        struct.pack("<BBHI", 1, HELLO, 0, 12) + struct.pack("<IIHH", 1, ATTACH, 0, 24),  # zero cols
        struct.pack("<BBHI", 1, HELLO, 0, 12) + struct.pack("<IIHH", 7, 0, 80, 24),       # version 7
    ]
    for raw in bad_frames:
        c = Client(sock, hello=False)
        c.s.sendall(raw)
        f = c.recv()
        check(f is not None and f[0] == ERROR, "no error for %r: %r" % (raw, f))
        check(c.recv() is None, "peer not closed after %r" % raw)
        c.s.close()
    # half a frame, then silence: the holder does not wait for it
    half = Client(sock, hello=False)
    half.s.sendall(b"\x01\x01\x00")
    env.run("send", "m", "echo still-alive", "--enter", check_rc=0)
    wait_for(lambda: "still-alive" in env.capture("m"), "holder serving others")
    got = b""
    while b"still-alive" not in got:
        f = good.recv()
        check(f is not None, "good client dropped")
        got += f[1] if f[0] == DATA else b""
    half.s.close()
    good.s.close()


def test_peer_that_never_reads_answers_is_dropped(env: Env):
    env.new("q", "/bin/sh", "-c", "i=0; while [ $i -lt 30 ]; do printf '\\033[3%dm%s\\n' $((i%8)) "
            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; i=$((i+1)); done; exec cat")
    sock = env.sock_path("q")
    wait_for(lambda: env.capture("q").count("xxxx") >= 20, "screen drawn")
    hog = Client(sock)
    req = struct.pack("<BBHI", 1, 11, 0, 4) + struct.pack("<I", 1)  # SCREEN_REQ, ANSI
    hog.s.setblocking(False)
    sent = 0
    try:
        while sent < 40000:  # answers of ~2 KiB each: far past what the holder keeps for a peer
            hog.s.send(req * 100)
            sent += 100
    except BlockingIOError:
        pass
    hog.s.setblocking(True)
    # the holder stays responsive and cuts the hog off (what it sent stays bounded)
    info = Client(sock).info()
    check(info["state"] == "running", "holder state %r" % info)
    got = 0
    try:
        while True:
            f = hog.recv()
            if f is None:
                break
            got += len(f[1])
            check(got < 32 << 20, "the holder kept answering a peer that never read")
    except ConnectionResetError:
        pass  # closed with our requests unread: the same cut-off
    hog.s.close()
    check(Client(sock).info()["state"] == "running", "holder after the hog")


def test_many_clients(env: Env):
    env.new("many", "/bin/sh")
    sock = env.sock_path("many")
    clients = [Client(sock, flags=ATTACH) for _ in range(10)]
    wait_for(lambda: Client(sock).info()["clients"] == "10", "ten clients counted")
    env.run("send", "many", "echo to-all", "--enter", check_rc=0)
    for c in clients:
        got = b""
        while b"to-all\r\n" not in got:
            f = c.recv()
            check(f is not None, "client dropped")
            got += f[1] if f[0] == DATA else b""
        c.s.close()
    wait_for(lambda: Client(sock).info()["clients"] == "0", "clients gone")


if __name__ == "__main__":
    main([test_stuck_client_does_not_block, test_stuck_client_past_the_log_gets_fresh_screen,
          test_malformed_frames_drop_only_that_peer, test_peer_that_never_reads_answers_is_dropped,
          test_many_clients])
