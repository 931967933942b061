"""kill -9 of the holder mid-output: everything a client saw is in the
history, the history is an unbroken prefix of what the program wrote, and
the session is listed as lost."""
import os
import re
import signal
import struct

from harness import Env, Client, check, main, wait_for, ATTACH, DATA, WELCOME

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTER = os.path.join(HERE, "progs", "counter.py")
LINE = re.compile(rb"line (\d{9}) x{40}\r\n")


def parse_lines(data, what):
    """Check data is 'line N' for N = 0, 1, 2... with at most a torn last line; return the count."""
    pos = n = 0
    while True:
        m = LINE.match(data, pos)
        if not m:
            break
        check(int(m.group(1)) == n, "%s: line %d where %d was due" % (what, int(m.group(1)), n))
        n += 1
        pos = m.end()
    rest = data[pos:]
    check(len(rest) < 60 and (b"line %09d" % n).startswith(rest[:14]), "%s: garbage after line %d: %r" % (what, n, rest[:80]))
    return n


def test_kill9_holder_mid_output(env: Env):
    env.new("flood", "python3", COUNTER)
    sock = env.sock_path("flood")
    pid = env.holder_pid("flood")
    parts = []
    offset = None
    with Client(sock, flags=ATTACH) as c:
        # the WELCOME offset numbers the first live DATA byte; SCREEN frames are the snapshot
        while sum(len(p) for p in parts) < 2_000_000:
            f = c.recv()
            check(f is not None, "holder closed early")
            if f[0] == WELCOME:
                offset = struct.unpack_from("<Q", f[1])[0]
            elif f[0] == DATA:
                parts.append(f[1])
        os.kill(pid, signal.SIGKILL)
    seen = b"".join(parts)
    hist = env.history("flood")
    n = parse_lines(hist, "history")
    check(n > 10000, "history too short: %d lines" % n)
    # every byte the client saw is in the history, at the offset the holder gave
    check(offset is not None, "no WELCOME")
    check(hist[offset:offset + len(seen)] == seen,
          "client output (%d bytes at offset %d) differs from the history" % (len(seen), offset))
    s = env.session("flood")
    check(s["state"] == "lost", "state after kill -9: %r" % s)


def test_torn_log_tail_is_cut(env: Env):
    env.new("t", "python3", COUNTER, "20000")
    env.run("wait", "t", check_rc=0)
    logdir = os.path.join(env.session_dir("t"), "log")
    os.kill(env.holder_pid("t"), signal.SIGKILL)
    wait_for(lambda: env.session("t")["state"] != "running", "holder gone")
    segs = sorted(os.listdir(logdir))
    check(segs and segs[-1].endswith(".log"), "no open segment: %r" % segs)
    # a torn record at the end of the open segment: the reader stops before it
    with open(os.path.join(logdir, segs[-1]), "ab") as f:
        f.write(b"\x52\x54\x01\x00\xff\xff")
    hist = env.history("t")
    check(parse_lines(hist, "history") == 20000, "lines lost to a torn tail")


if __name__ == "__main__":
    main([test_kill9_holder_mid_output, test_torn_log_tail_is_cut])
