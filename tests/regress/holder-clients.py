"""Clients of one holder: a client that never reads slows neither the
program nor another client; malformed frames drop only that peer; several
clients at once."""
import os
import socket
import struct
import time

from harness import (Env, Client, check, main, wait_for, ATTACH, DATA, ERROR, EXIT, HELLO,
                     INPUT, NOTICE, RESIZE, WELCOME)

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTER = os.path.join(HERE, "progs", "counter.py")


def test_stuck_client_does_not_block(env: Env):
    lines = 200000  # about 12 MB through the pty
    env.new("busy", "/bin/sh", "-c", "read go; python3 %s %d; read done" % (COUNTER, lines))
    sock = env.sock_path("busy")
    stuck = Client(sock, flags=ATTACH)
    stuck.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    fast = Client(sock, flags=ATTACH)
    env.run("send", "busy", "go", "--enter", check_rc=0)
    parts = []
    offset = None
    want = ("line %09d" % (lines - 1)).encode()
    while not parts or want not in b"".join(parts[-2:]):
        f = fast.recv()
        check(f is not None, "fast client cut off")
        check(f[0] != NOTICE, "fast client fell behind: %r" % (f,))
        if f[0] == WELCOME:
            offset = struct.unpack_from("<Q", f[1])[0]
        if f[0] == DATA:
            parts.append(f[1])
    got = b"".join(parts)
    # the fast client saw every line, in order, while the stuck one read nothing
    start = got.find(b"line 000000000")
    body = got[start:]
    for i in (0, 1, lines // 2, lines - 1):
        check(("line %09d" % i).encode() in body, "fast client lacks line %d" % i)
    check(body.count(b"\n") >= lines, "fast client lost lines: %d" % body.count(b"\n"))
    # the holder still answers and the stuck client is brought forward once it reads
    info = Client(sock).info()
    check(info["state"] == "running", "holder state %r" % info)
    stuck.s.settimeout(30)
    notice = None
    while notice is None:
        f = stuck.recv()
        check(f is not None, "stuck client dropped without a message")
        if f[0] == NOTICE:
            notice = f[1]
    check(b"skipped" in notice, "notice %r" % notice)
    stuck.s.close()
    fast.s.close()
    hist = env.history("busy")
    check(hist.count(b"line ") == lines, "history lines: %d" % hist.count(b"line "))
    check(hist[offset:offset + len(got)] == got, "the fast client's output differs from the history")


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
    main([test_stuck_client_does_not_block, test_malformed_frames_drop_only_that_peer,
          test_many_clients])
