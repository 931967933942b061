#!/usr/bin/env python3
"""Regenerate the seed corpora in tests/fuzz/corpus/ from the real binaries:
frame streams a real holder sends and accepts, segments its history writer
wrote, and escape-heavy terminal output. Each file carries the target's
input prefix (see the comment at the top of each *-fuzzer.c). Run from
anywhere: tests/fuzz/make-corpus.py [BUILD_DIR] (default build/). Files
named crash-* and regress-* are kept: they are the inputs of bugs found."""
import glob
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
BUILD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
CORPUS = os.path.join(HERE, "corpus")
TUI = os.path.join(ROOT, "tests/regress/progs/tui.py")
MAX = 8192


def frame(typ, payload=b""):
    return struct.pack("<BBHI", 1, typ, 0, len(payload)) + payload


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data[:MAX])


def clear():
    for t in ("proto", "history", "name", "vt"):
        for p in glob.glob(os.path.join(CORPUS, t, "*")):
            if not os.path.basename(p).startswith(("crash-", "regress-")):
                os.unlink(p)


def wait_for(pred, what, deadline=20):
    end = time.monotonic() + deadline
    while not pred():
        if time.monotonic() > end:
            raise SystemExit("make-corpus: timed out waiting for " + what)
        time.sleep(0.02)


ESCAPES = [
    b"\033[1;31mred\033[0m \033[38;5;208m256\033[0m \033[38;2;10;20;30mrgb\033[0m\r\n",
    b"\033[?1049h\033[2J\033[H\033[7mstatus\033[0m\033[5;10r\033[5;1Hin region\033[?1049l",
    b"\033]0;title here\007\033]2;other\033\\\033[?2004h\033[?1000h\033[?1006h\033[?1h\033=",
    "wide: \u4e2d\u6587 e\u0301 \U0001f600 done\r\n".encode(),
    b"\0337\033[10;10Hsaved\0338\033[s\033[3;3Hscosc\033[u\033[4h\033[?25l\033[2 q",
    b"\033[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20m many params \033[0m",
    b"\033[38:2::1:2:3mcolon\033[0m\033[?69h\033[5;20s\033[?69l\033c",
    b"line1\r\nline2\r\n\033[A\033[2K\033[1Grewrite\033[3L\033[2M\033[4@\033[2P\033[5X",
    b"\033P1;2|abc\033\\\033_apc\033\\\033^pm\033\\\033X sos\033\\",
    b"\xd6\xd6\n\xd6=\xe2\x82\033[m\xf0\x9f\x98" + b"\xff\xfe\xc0\x80 invalid utf8",
]


def vt_corpus():
    for i, e in enumerate(ESCAPES):
        put("vt", "escapes-%02d" % i, bytes([79, 23, i, 0]) + e)
        put("vt", "escapes-%02d-small" % i, bytes([9, 4, i * 7, 5]) + e)
    everything = b"".join(ESCAPES)
    put("vt", "escapes-all-resize-reset", bytes([39, 11, 3, 7]) + everything)


def name_corpus():
    for n in [b"agent", b"build-1", b"a.b_c-d", b"a..b", b"-x", b".hidden", b"..", b"a/b",
              b"0123456789ab", b"0123456789AB", b"x" * 64, b"x" * 65, b"tab\tname", b""]:
        put("name", "name-%d-%s" % (len(n), n[:16].hex()), n)


def session_corpus():
    home = tempfile.mkdtemp(prefix="roost-corpus-")
    env = dict(os.environ, ROOST_HOME=home, ROOST_HOLDER=os.path.join(BUILD, "roost-holder"),
               ROOST_LINGER="0")
    env.pop("TMUX", None)
    roost = os.path.join(BUILD, "roost")

    def run(*args):
        return subprocess.run([roost] + list(args), env=env, check=True,
                              stdout=subprocess.PIPE).stdout

    def session_id(name):
        for s in json.loads(run("ls", "--json")):
            if s["name"] == name:
                return s["id"]
        raise SystemExit("no session " + name)

    try:
        # A live session: the frame streams of an attached and a control client.
        script = "printf '%s'; read x; printf 'got %%s\\n' \"$x\"; read y" % (
            "".join(e.decode("latin-1") for e in ESCAPES[:5]).replace("\\", "\\\\")
            .replace("'", "'\\''").replace("%", "%%"))
        run("new", "-d", "-s", "live", "--", "/bin/sh", "-c", script)
        sid = session_id("live")
        sock = os.path.join(home, "run", "s-%s.sock" % sid)
        c = socket.socket(socket.AF_UNIX)
        c.connect(sock)
        sent = (frame(1, struct.pack("<IIHH", 1, 1, 80, 24)) + frame(5, struct.pack("<HH", 100, 30))
                + frame(4, b"hello\r") + frame(9))
        c.sendall(sent)
        got = b""
        end = time.monotonic() + 10
        while b"got hello" not in got and time.monotonic() < end:
            c.settimeout(max(0.1, end - time.monotonic()))
            try:
                chunk = c.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
        c.sendall(frame(6))
        c.close()
        # holder -> client streams are decoded by the CLI with PROTO_MAX_PAYLOAD (selector 3)
        put("proto", "holder-attach-stream", bytes([1, 3]) + got)
        put("proto", "holder-attach-stream-split", bytes([77, 3]) + got)
        put("proto", "client-attach-stream", bytes([5, 0]) + sent + frame(6))
        put("proto", "client-control-stream", bytes([9, 0]) + frame(1, struct.pack("<IIHH", 1, 0, 0, 0))
            + frame(9) + frame(11, struct.pack("<I", 1)) + frame(8, struct.pack("<i", 1)) + frame(15))
        put("proto", "client-big-input", bytes([3, 0]) + frame(1, struct.pack("<IIHH", 1, 2, 80, 24))
            + frame(4, b"y" * 4000))
        put("proto", "bad-version", bytes([0, 0]) + b"\x02\x01\x00\x00\x0c\x00\x00\x00" + b"\0" * 12)
        put("proto", "bad-huge-input", bytes([0, 0]) + b"\x01\x04\x00\x00\xff\xff\xff\x7f")
        put("proto", "small-max-exact", bytes([2, 6]) + frame(3, b"z" * 100) + frame(3, b"q" * 101))

        # The open segment of a live session (its .log), then sealed (.zst) after exit.
        logdir = os.path.join(home, "state", "sessions", sid, "log")
        logs = sorted(glob.glob(os.path.join(logdir, "*.log")))
        data = b""
        if logs:
            data = open(logs[-1], "rb").read()
            put("history", "live-open-segment", bytes([0]) + data)
            put("history", "live-open-segment-compressed", bytes([1]) + data)
            put("history", "live-open-segment-torn", bytes([0]) + data[:-7])
            put("history", "live-both-cut", bytes([3]) + data)
            put("history", "live-holes", bytes([6]) + data * 3)
        run("send", "live", "again", "--enter")
        wait_for(lambda: not os.path.exists(sock), "the holder to exit", 20)
        zsts = sorted(glob.glob(os.path.join(logdir, "*.zst")))
        if zsts:
            z = open(zsts[-1], "rb").read()
            put("history", "sealed-segment-raw-zst", bytes([2]) + z)
            put("history", "sealed-segment-flipped", bytes([4, 40, 0, 0x20]) + data)
        # The writer round trip: appends (kinds 0-4), reopen (5), torn tail (6), sync (7).
        put("history", "writer-ops", bytes([5, 0x03, 0, 8, 0x0b, 200, 1, 0x05, 0x13, 50, 0, 0x0e,
                                           10, 0x07, 0x08, 255, 3, 0x0d, 0x01, 0, 1]))
        put("history", "writer-ops-cap", bytes([5, 0x20, 0x01, 0xff, 2, 0x01, 0xff, 2, 0x01, 0xff,
                                               2, 0x01, 0xff, 2, 0x05, 0x01, 0xff, 2]))

        # Terminal output as a real program (tui.py) wrote it, from its history.
        run("new", "-d", "-s", "tui", "--", "python3", TUI)
        tsock = os.path.join(home, "run", "s-%s.sock" % session_id("tui"))
        wait_for(lambda: b"keys: 0" in run("capture", "tui"), "tui to draw", 20)
        run("send", "tui", "abc")
        run("send", "tui", "q")
        wait_for(lambda: not os.path.exists(tsock), "tui to exit", 20)
        out = run("history", "tui")
        put("vt", "tui-output", bytes([79, 23, 1, 0]) + out)
        put("vt", "tui-output-small-split", bytes([20, 5, 9, 4]) + out)
    finally:
        for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
            try:
                with open("/proc/%d/environ" % pid, "rb") as f:
                    if ("ROOST_HOME=%s\0" % home).encode() in f.read():
                        os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(home, ignore_errors=True)


def main():
    if not os.path.exists(os.path.join(BUILD, "roost")):
        raise SystemExit("make-corpus: build roost first (%s)" % BUILD)
    clear()
    vt_corpus()
    name_corpus()
    session_corpus()
    for t in ("proto", "history", "name", "vt"):
        files = os.listdir(os.path.join(CORPUS, t))
        print("%s: %d files" % (t, len(files)))


main()
