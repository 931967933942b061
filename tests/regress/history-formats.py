"""History readers: raw (byte-exact), text (rendered through a VT, scrollback
then screen), asciicast v2 (plays in asciinema), and --tail."""
import json
import os
import shutil
import subprocess

from harness import Env, check, main, wait_for


def finished(env, name, *cmd):
    env.new(name, *cmd)
    env.run("wait", name, check_rc=0)


def test_raw_is_byte_exact(env: Env):
    # every byte value the pty passes unchanged (no \n, which ONLCR rewrites)
    finished(env, "bytes", "python3", "-c",
             "import os; os.write(1, bytes(b for b in range(256) if b != 10) * 50)")
    raw = env.history("bytes")
    want = bytes(b for b in range(256) if b != 10) * 50
    check(raw == want, "raw history differs: %d vs %d bytes" % (len(raw), len(want)))


def test_text_scrollback_then_screen(env: Env):
    finished(env, "lines", "/bin/sh", "-c", "i=1; while [ $i -le 300 ]; do echo \"row $i\"; i=$((i+1)); done")
    text = env.history("lines", "--format", "text").decode()
    rows = [l for l in text.splitlines() if l]
    check(rows == ["row %d" % i for i in range(1, 301)], "text history: %r" % rows[:5])
    tail = env.history("lines", "--format", "text", "--tail", "3").decode().splitlines()
    check(tail == ["row 298", "row 299", "row 300"], "text tail %r" % tail)
    tail = env.history("lines", "--tail", "2")
    check(tail == b"row 299\r\nrow 300\r\n", "raw tail %r" % tail)


def test_asciicast_plays(env: Env):
    finished(env, "cast", "/bin/sh", "-c", "printf '\\033[1;32mgreen\\033[0m caf\\303\\251 \\346\\274\\242\\n'; echo done")
    cast = env.history("cast", "--format", "asciicast").decode()
    lines = cast.splitlines()
    header = json.loads(lines[0])
    check(header["version"] == 2 and header["width"] == 80 and header["height"] == 24, "header %r" % header)
    check(isinstance(header["timestamp"], int) and header["timestamp"] > 1_600_000_000, "timestamp %r" % header)
    events = [json.loads(l) for l in lines[1:]]
    out = "".join(e[2] for e in events if e[1] == "o")
    check(out.encode() == env.history("cast"), "asciicast output differs from raw")
    check(all(events[i][0] <= events[i + 1][0] for i in range(len(events) - 1)), "times not ordered")
    if shutil.which("asciinema"):
        path = os.path.join(env.home, "x.cast")
        with open(path, "w") as f:
            f.write(cast)
        # asciinema opens /dev/tty: give it a terminal with script(1)
        p = subprocess.run(["script", "-qec", "asciinema cat " + path, "/dev/null"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(p.returncode == 0, "asciinema cat failed: %r" % p.stderr)
        check(b"green" in p.stdout and "caf\u00e9".encode() in p.stdout, "asciinema output %r" % p.stdout)


def test_asciicast_invalid_utf8(env: Env):
    finished(env, "bad", "python3", "-c", "import os; os.write(1, b'ok \\xff\\xfe end')")
    cast = env.history("bad", "--format", "asciicast").decode()
    out = "".join(json.loads(l)[2] for l in cast.splitlines()[1:] if json.loads(l)[1] == "o")
    check(out == "ok \ufffd\ufffd end", "invalid bytes: %r" % out)


def test_cap_drops_oldest_and_says_so(env: Env):
    env.env["ROOST_HISTORY_CAP"] = "3000000"
    finished(env, "capped", "python3", "-c",
             "import os\nfor i in range(200000): os.write(1, b'capline %08d padding-padding-padding\\n' % i)")
    p = env.run("history", "capped", check_rc=0)
    check(b"older output is gone (history cap)" in p.stderr, "no warning about the cap: %r" % p.stderr[:300])
    out = p.stdout
    check(2_000_000 < len(out) <= 3_000_000 + 1_100_000, "kept %d bytes under a 3 MB cap" % len(out))
    check(out.endswith(b"capline 00199999 padding-padding-padding\r\n"), "the newest output is kept")
    first = int(out[out.index(b"capline ") + 8:][:8])
    # what is kept is one unbroken run up to the end
    body = out[out.index(b"capline "):]
    check(body.count(b"capline ") == 200000 - first, "a hole in the kept history")
    env.env["ROOST_HISTORY_CAP"] = "lots"
    p = env.run("new", "-d", "--", "/bin/true")
    check(p.returncode == 2 and b"bad ROOST_HISTORY_CAP 'lots'" in p.stderr, "bad cap accepted: %r" % (p,))


if __name__ == "__main__":
    main([test_raw_is_byte_exact, test_text_scrollback_then_screen, test_asciicast_plays,
          test_asciicast_invalid_utf8, test_cap_drops_oldest_and_says_so])
