#!/usr/bin/env python3
"""bench.py: roost against tmux, screen and dtach on the same workloads.

One command runs everything, prints a table of figures and ratios (roost
divided by each peer), `name: value unit` lines, and writes bench/RESULTS.md.
Every server and session it starts is private (own sockets, own ROOST_HOME,
own SCREENDIR) and is killed at the end. Timing-sensitive work (spawning,
draining attach clients in a PTY) is done by bench/bench-pty.c, which this
script builds into bench/out/. It does not measure anything roost-specific
that the peers could not do; where a peer cannot do a workload it says N/A.

    python3 bench/bench.py [--quick] [--mb N] [--tools roost,tmux,...]
"""

import argparse
import base64
import datetime
import fcntl
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
HELPER = OUT / "bench-pty"
COLS, ROWS = 120, 40
SLEEP = ["sleep", "100000"]
MB = 1000 * 1000
TOOLS = ["roost", "tmux", "screen", "dtach"]
END_MARK = "BENCH-END-MARK"          # printed as BENCH-%s-MARK so argv never contains it
FINAL_MARK = "REATTACH-FINAL-LINE"   # likewise built from pieces


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def run(argv, env, timeout=60, stdin=subprocess.DEVNULL):
    """Run to completion with stdout/stderr in temp files (daemons may keep pipes open)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.run([str(a) for a in argv], env=env, stdin=stdin, stdout=out,
                           stderr=err, timeout=timeout)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def helper(args, env, timeout):
    """Run bench-pty and parse its key=value line."""
    rc, out, err = run([HELPER] + [str(a) for a in args], env, timeout=timeout)
    kv = {}
    for tok in out.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            kv[k] = v
    kv["_rc"] = rc
    return kv


def proc_list():
    """(pid, argv) for every process we can see."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        yield int(d), [a.decode(errors="replace") for a in raw.split(b"\0")[:-1]]


def proc_has_tag(pid, tag):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return (b"BENCH_TAG=" + tag.encode() + b"\0") in f.read()
    except OSError:
        return False


def proc_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        return st[st.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def cpu_seconds(pid):
    """utime + stime of pid in seconds, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return None
    rest = st[st.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def smaps(pid):
    """(rss_kib, pss_kib) of pid from smaps_rollup."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def kill_pids(pids, sig):
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    left = [p for p in pids if proc_alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if proc_alive(p)]
    return left


def wait_until(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def pty_stdin():
    """A COLSxROWS pty slave to give create commands as stdin (they read the size from it)."""
    m, s = os.openpty()
    fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return m, s


# ---------------------------------------------------------------- tools

class Tool:
    """One private instance of a terminal multiplexer; teardown kills all it started."""
    name = "?"
    detach_keys = None  # what a user types to detach; the bench detaches like a user
    redraw_mark = None  # a sequence that starts a full redraw, counted in the throughput stream
    all_instances = []

    def __init__(self, bench, label):
        self.bench = bench
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name[:2]}", dir=bench.tmp))
        self.tag = f"{bench.tmp}:{self.name}:{label}"
        self.env = dict(os.environ)
        for k in ("TMUX", "TMUX_PANE", "STY", "WINDOW", "ROOST_HOME", "ROOST_HOLDER"):
            self.env.pop(k, None)
        self.env["TERM"] = "xterm-256color"
        self.env["BENCH_TAG"] = self.tag
        self.env["LC_ALL"] = "C.UTF-8"
        Tool.all_instances.append(self)

    # Overridden per tool.
    def create_argv(self, name, argv):
        raise NotImplementedError

    def ready_args(self, name):
        return []

    def attach_argv(self, name):
        raise NotImplementedError

    def server_pid(self, name):
        raise NotImplementedError

    def mem_pids(self):
        raise NotImplementedError

    def count_ready(self):
        raise NotImplementedError

    def screen_contains(self, name, text):
        return None

    def is_detached(self, name):
        return True

    def history(self, name, out):
        return []

    def graceful_stop(self):
        pass

    def create(self, name, argv, timeout=30):
        """Create with a COLSxROWS pty as stdin so tools that size from it get 120x40."""
        m, s = pty_stdin()
        try:
            rc, out, err = run(self.create_argv(name, argv), self.env, timeout=timeout, stdin=s)
        finally:
            os.close(s)
            os.close(m)
        if rc != 0:
            raise RuntimeError(f"{self.name}: create '{name}' failed ({rc}): {err.strip()[:300]}")
        return out

    def tagged(self):
        return [pid for pid, _ in proc_list() if pid != os.getpid() and proc_has_tag(pid, self.tag)]

    def teardown(self):
        if self not in Tool.all_instances:
            return
        try:
            self.graceful_stop()
        except Exception as e:  # noqa: BLE001 - cleanup must go on
            log(f"{self.name}: graceful stop failed: {e}")
        pids = self.tagged()
        kill_pids(pids, signal.SIGTERM)
        left = wait_gone(pids, 5)
        if left:
            kill_pids(left, signal.SIGKILL)
            wait_gone(left, 5)
        left = self.tagged()
        if left:
            kill_pids(left, signal.SIGKILL)
            wait_gone(left, 5)
        shutil.rmtree(self.dir, ignore_errors=True)
        Tool.all_instances.remove(self)


class Roost(Tool):
    name = "roost"
    detach_keys = "\x1c"
    redraw_mark = "\033[!p"  # how vt_render_ansi starts a snapshot: a client that lagged gets one

    def __init__(self, bench, label, history_lines=None):
        super().__init__(bench, label)
        self.home = self.dir / "h"
        self.home.mkdir(mode=0o700)
        self.env["ROOST_HOME"] = str(self.home)
        self.bin = bench.roost
        self.holder = bench.holder

    def create_argv(self, name, argv):
        return [self.bin, "new", "-d", "-s", name, "--linger", "0", "--"] + argv

    def attach_argv(self, name):
        return [self.bin, "attach", name]

    def session_id(self, name):
        return os.readlink(self.home / "state" / "names" / name)

    def holders(self):
        """{session id: holder pid} for this ROOST_HOME."""
        res = {}
        prefix = str(self.home) + "/"
        for pid, argv in proc_list():
            if not argv or argv[0] != str(self.holder):
                continue
            try:
                d = argv[argv.index("--dir") + 1]
                sid = argv[argv.index("--id") + 1]
            except (ValueError, IndexError):
                continue
            if d.startswith(prefix):
                res[sid] = pid
        return res

    def server_pid(self, name):
        return self.holders().get(self.session_id(name))

    def mem_pids(self):
        return list(self.holders().values())

    def count_ready(self):
        return len(self.holders())

    def sock(self, name):
        return self.home / "run" / f"s-{self.session_id(name)}.sock"

    def info(self, name):
        """INFO from the holder over the raw protocol, as a dict."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(str(self.sock(name)))
            hello = struct.pack("<IIHH", 1, 0, 0, 0)
            s.sendall(struct.pack("<BBHI", 1, 1, 0, len(hello)) + hello)
            s.sendall(struct.pack("<BBHI", 1, 9, 0, 0))
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return {}
                buf += chunk
                while len(buf) >= 8:
                    _, typ, _, ln = struct.unpack("<BBHI", buf[:8])
                    if len(buf) < 8 + ln:
                        break
                    payload, buf = buf[8:8 + ln], buf[8 + ln:]
                    if typ == 10:
                        return dict(line.split("=", 1) for line in
                                    payload.decode(errors="replace").splitlines() if "=" in line)
        except OSError:
            return {}
        finally:
            s.close()

    def screen_contains(self, name, text):
        rc, out, _ = run([self.bin, "capture", name], self.env, timeout=10)
        return rc == 0 and text in out

    def is_detached(self, name):
        return self.info(name).get("clients") == "0"

    def history(self, name, out):
        res = []
        for fmt in ("raw", "text"):
            path = f"{out}.{fmt}"
            kv = helper(["spawn", "--out", path, "--", self.bin, "history", "--format", fmt, name],
                        self.env, timeout=120)
            res.append((fmt, int(kv.get("ns", 0)) / 1e9, int(kv.get("status", 1)), path))
        return res

    def kill(self, name):
        run([self.bin, "kill", name], self.env, timeout=10)

    def graceful_stop(self):
        pids = self.mem_pids()
        kill_pids(pids, signal.SIGTERM)  # the holder hangs up its program and seals its log
        wait_gone(pids, 10)


class Tmux(Tool):
    name = "tmux"
    detach_keys = "\x02d"

    def __init__(self, bench, label, history_lines=None):
        super().__init__(bench, label)
        self.sock = self.dir / "tmux.sock"
        self.conf = self.dir / "tmux.conf"
        self.conf.write_text(f"set -g history-limit {history_lines}\n" if history_lines else "")
        self.base = ["tmux", "-S", str(self.sock), "-f", str(self.conf)]

    def create_argv(self, name, argv):
        return self.base + ["new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS),
                            "--"] + argv

    def attach_argv(self, name):
        return self.base + ["attach-session", "-t", name]

    def server_pid(self, name=None):
        rc, out, _ = run(self.base + ["display-message", "-p", "#{pid}"], self.env, timeout=10)
        if rc != 0:
            rc, out, _ = run(self.base + ["list-sessions", "-F", "#{pid}"], self.env, timeout=10)
        try:
            return int(out.split()[0])
        except (IndexError, ValueError):
            return None

    def mem_pids(self):
        pid = self.server_pid()
        return [pid] if pid else []

    def count_ready(self):
        rc, out, _ = run(self.base + ["list-sessions", "-F", "#{session_name}"], self.env, timeout=30)
        return len(out.split()) if rc == 0 else 0

    def screen_contains(self, name, text):
        rc, out, _ = run(self.base + ["capture-pane", "-p", "-t", name], self.env, timeout=10)
        return rc == 0 and text in out

    def is_detached(self, name):
        rc, out, _ = run(self.base + ["list-clients", "-t", name], self.env, timeout=10)
        return rc == 0 and out.strip() == ""

    def history(self, name, out):
        path = f"{out}.txt"
        kv = helper(["spawn", "--out", path, "--"] + self.base +
                    ["capture-pane", "-p", "-S", "-", "-E", "-", "-t", name], self.env, timeout=120)
        return [("text", int(kv.get("ns", 0)) / 1e9, int(kv.get("status", 1)), path)]

    def kill(self, name):
        run(self.base + ["kill-session", "-t", name], self.env, timeout=10)

    def graceful_stop(self):
        if self.sock.exists():
            run(self.base + ["kill-server"], self.env, timeout=10)


class Screen(Tool):
    name = "screen"
    detach_keys = "\x01d"

    def __init__(self, bench, label, history_lines=None):
        super().__init__(bench, label)
        self.sdir = self.dir / "S"
        self.sdir.mkdir(mode=0o700)
        self.rc = self.dir / "screenrc"
        self.rc.write_text("startup_message off\n" +
                           (f"defscrollback {history_lines}\n" if history_lines else ""))
        self.env["SCREENDIR"] = str(self.sdir)
        self.env["SYSSCREENRC"] = "/dev/null"
        self.env["SCREENRC"] = str(self.rc)

    def create_argv(self, name, argv):
        return ["screen", "-c", str(self.rc), "-dmS", name] + argv

    def ready_args(self, name):
        return ["--wait-dir", self.sdir, "--suffix", "." + name]

    def attach_argv(self, name):
        return ["screen", "-c", str(self.rc), "-r", name]

    def sessions(self):
        """{name: (pid, state)} from screen -ls."""
        _, out, _ = run(["screen", "-ls"], self.env, timeout=30)
        res = {}
        for m in re.finditer(r"^\s+(\d+)\.(\S+)\s.*\((Attached|Detached)\)", out, re.M):
            res[m.group(2)] = (int(m.group(1)), m.group(3))
        return res

    def full(self, name):
        for f in os.listdir(self.sdir):
            if f.endswith("." + name):
                return f
        return name

    def server_pid(self, name):
        return int(self.full(name).split(".")[0])

    def mem_pids(self):
        return [int(f.split(".")[0]) for f in os.listdir(self.sdir)]

    def count_ready(self):
        return len(os.listdir(self.sdir))

    def screen_contains(self, name, text):
        path = self.dir / "hc.txt"
        kv = helper(["spawn", "--", "screen", "-S", self.full(name), "-X", "hardcopy", path, ";;",
                     "screen", "-S", self.full(name), "-Q", "number"], self.env, timeout=20)
        try:
            return text in path.read_text(errors="replace")
        except OSError:
            return False

    def is_detached(self, name):
        return self.sessions().get(name, (0, ""))[1] == "Detached"

    def history(self, name, out):
        # hardcopy -h is asynchronous to `screen -X`; the -Q query after it is answered only
        # once the backend has handled the hardcopy, so the pair is the retrieval time.
        path = f"{out}.txt"
        kv = helper(["spawn", "--", "screen", "-S", self.full(name), "-X", "hardcopy", "-h", path,
                     ";;", "screen", "-S", self.full(name), "-Q", "number"], self.env, timeout=120)
        return [("text", int(kv.get("ns", 0)) / 1e9, int(kv.get("status", 1)), path)]

    def kill(self, name):
        run(["screen", "-S", self.full(name), "-X", "quit"], self.env, timeout=10)

    def graceful_stop(self):
        pids = self.mem_pids()
        kill_pids(pids, signal.SIGTERM)
        wait_gone(pids, 10)
        run(["screen", "-wipe"], self.env, timeout=30)


class Dtach(Tool):
    name = "dtach"
    detach_keys = "\x1c"

    def __init__(self, bench, label, history_lines=None):
        super().__init__(bench, label)
        self.sdir = self.dir / "d"
        self.sdir.mkdir(mode=0o700)

    def sock(self, name):
        return self.sdir / f"{name}.s"

    def create_argv(self, name, argv):
        return ["dtach", "-n", str(self.sock(name))] + argv

    def ready_args(self, name):
        return ["--wait-path", self.sock(name)]

    def attach_argv(self, name):
        return ["dtach", "-a", str(self.sock(name)), "-r", "none"]

    def masters(self):
        prefix = str(self.sdir) + "/"
        return {argv[2]: pid for pid, argv in proc_list()
                if len(argv) > 2 and argv[0] == "dtach" and argv[1] == "-n" and argv[2].startswith(prefix)}

    def server_pid(self, name):
        return self.masters().get(str(self.sock(name)))

    def mem_pids(self):
        return list(self.masters().values())

    def count_ready(self):
        return len(os.listdir(self.sdir))

    def kill(self, name):
        pid = self.server_pid(name)
        if pid:
            kill_pids([pid], signal.SIGTERM)

    def graceful_stop(self):
        pids = self.mem_pids()
        kill_pids(pids, signal.SIGTERM)
        wait_gone(pids, 10)


TOOL_CLASSES = {"roost": Roost, "tmux": Tmux, "screen": Screen, "dtach": Dtach}


# ---------------------------------------------------------------- corpora

WORDS = ("alpha beta gamma delta kappa omega build cache conf data docs lib src test tmp usr var "
         "main util net http proto vt holder store web bench notes report backup index").split()
EXTS = ["", ".c", ".h", ".py", ".md", ".txt", ".json", ".sh", ".tar.gz", ".zst", ".png", ".o"]
USERS = ["root", "alice", "bob", "builder", "www-data", "postgres", "nobody", "agent"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def ls_tails(rng, n):
    """n distinct `ls -l` line tails (everything after the inode), SGR-coloured like dircolors."""
    tails = []
    for _ in range(n):
        kind = rng.random()
        name = rng.choice(WORDS) + (f"{rng.randrange(100)}" if rng.random() < 0.4 else "")
        ext = rng.choice(EXTS)
        if kind < 0.2:
            perm, col, shown = "drwxr-xr-x", "01;34", name
        elif kind < 0.27:
            target = rng.choice(WORDS)
            perm, col, shown = "lrwxrwxrwx", "01;36", name
            shown_extra = f" -> {target}"
        elif kind < 0.4:
            perm, col, shown = "-rwxr-xr-x", "01;32", name
        else:
            perm = rng.choice(["-rw-r--r--", "-rw-------", "-rw-rw-r--"])
            shown = name + ext
            col = {".tar.gz": "01;31", ".zst": "01;31", ".png": "01;35"}.get(ext, "")
        links = rng.choice([1, 1, 1, 2, 3, 12])
        size = int(rng.paretovariate(1.1) * 300)
        when = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}" if rng.random() < 0.7 else \
            str(rng.randrange(2015, 2025))
        colored = f"\033[{col}m{shown}\033[0m" if col else shown
        if perm[0] == "l":
            colored += shown_extra
        tails.append(f" {perm} {links:>2} {rng.choice(USERS):<8} {rng.choice(USERS):<8} "
                     f"{size:>9} {rng.choice(MONTHS)} {rng.randrange(1, 29):>2} {when:>5} {colored}\n")
    return tails


def write_ansi_corpus(path, nbytes, seed=1):
    """Numbered `ls -il`-like lines (the inode column is the line number); returns (bytes, lines)."""
    rng = random.Random(seed)
    tails = ls_tails(rng, 4096)
    pick = random.Random(seed + 1)
    total = lines = 0
    with open(path, "w", encoding="ascii") as f:
        chunk = []
        while total < nbytes:
            lines += 1
            line = f"{lines:>8}" + tails[pick.getrandbits(12)]
            chunk.append(line)
            total += len(line)
            if len(chunk) >= 20000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    return total, lines


def write_b64_corpus(path, nbytes, seed=2):
    """base64 of deterministic pseudo-random bytes, 76 columns (base64.encodebytes)."""
    rng = random.Random(seed)
    raw = nbytes * 57 // 77  # 57 raw bytes per 77-byte output line
    with open(path, "wb") as f:
        data = base64.encodebytes(rng.randbytes(raw))
        f.write(data)
    return len(data), data.count(b"\n")


# ---------------------------------------------------------------- the bench

class Result:
    """Figures by metric and tool; rows are defined once, in table order."""

    def __init__(self):
        self.rows = {}    # key -> dict(label, unit, better, values{tool: v}, note)
        self.notes = []   # free-text notes and issues found
        self.extra = []   # every `name: value unit` line printed

    def define(self, key, label, unit, better, note=None, no_ratio=()):
        """no_ratio: peers whose figure is not comparable with roost's in this row."""
        self.rows[key] = {"label": label, "unit": unit, "better": better, "values": {}, "note": note,
                          "no_ratio": no_ratio}

    def add(self, key, tool, value):
        self.rows[key]["values"][tool] = value

    def line(self, name, value, unit):
        self.extra.append((name, value, unit))
        print(f"{name}: {fmt(value)} {unit}".rstrip(), flush=True)


def slug(key):
    """The `name` of a table row in `name: value unit` lines."""
    fixed = {"create_med": "create.median", "create_p90": "create.p90", "reattach": "reattach.median",
             "hist_raw": "history.raw.time", "hist_raw_c": "history.raw.lines_present",
             "hist_text": "history.text.time", "hist_text_c": "history.text.lines_present",
             "disk": "disk.per_kept_output_byte", "disk_all": "disk.per_output_byte"}
    if key in fixed:
        return fixed[key]
    for prefix, name in (("tpcc_", "client_cpu_per_100MB"), ("tpr_", "client_skips"), ("tpc_", "server_cpu_per_100MB"),
                         ("tpb_", "client_bytes_pct"), ("tp_", "throughput"), ("rss", "rss_per_session"),
                         ("pss", "pss_per_session")):
        if key.startswith(prefix):
            return f"{name}.{key[len(prefix):]}"
    return key


def fmt(v):
    if v is None:
        return "N/A"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    a = abs(v)
    if 99 <= a < 100:  # percentages near 100: show the loss, never round it away
        return f"{math.floor(v * 1000) / 1000:.3f}"
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{v:.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    if a >= 0.01:
        return f"{v:.3f}"
    return f"{v:.4f}"


def pct(sorted_vals, q):
    if not sorted_vals:
        return None
    k = -(-len(sorted_vals) * int(q * 100) // 100) - 1  # nearest rank: ceil(q n) - 1
    return sorted_vals[max(0, min(len(sorted_vals) - 1, k))]


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.tools = [t for t in args.tools.split(",") if t]
        self.res = Result()
        self.t0 = time.monotonic()
        self.budget = args.budget if args.budget else (170 if self.quick else 1150)
        self.tmp = Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp"))
        self.roost = Path(args.build_dir).resolve() / "roost"
        self.holder = Path(args.build_dir).resolve() / "roost-holder"
        self.build_roost = self.roost  # what --version is asked of, after the private copy is gone
        self.mb = args.mb if args.mb else 100

    def over_budget(self, what):
        if time.monotonic() - self.t0 > self.budget:
            self.res.notes.append(f"skipped {what}: time budget of {self.budget:.0f} s used up")
            log(f"skipping {what}: over the time budget")
            return True
        return False

    def tool(self, name, label, **kw):
        return TOOL_CLASSES[name](self, label, **kw)

    # -------------------------------------------------------- 1. create latency

    def w_create(self):
        n = 20 if self.quick else 50
        for tn in self.tools:
            t = self.tool(tn, "create")
            try:
                samples, bad, why = [], 0, set()
                for i in range(n):
                    name = f"c{i:03d}"
                    kv = helper(["spawn"] + [str(a) for a in t.ready_args(name)] + ["--"] +
                                t.create_argv(name, SLEEP), t.env, timeout=30)
                    if kv.get("status") != "0" or kv.get("ready") != "1":
                        bad += 1
                        why.add(f"status={kv.get('status')} ready={kv.get('ready')}")
                        continue
                    samples.append(int(kv["ns"]) / 1e6)
                if bad:
                    self.res.notes.append(f"{tn}: {bad} of {n} creates failed or never became ready "
                                          f"({', '.join(sorted(why))})")
                s = sorted(samples)
                med, p90 = (statistics.median(s), pct(s, 0.9)) if s else (None, None)
                self.res.add("create_med", tn, med)
                self.res.add("create_p90", tn, p90)
                self.res.line(f"{tn}.create.median", med, "ms")
                self.res.line(f"{tn}.create.p90", p90, "ms")
                self.res.line(f"{tn}.create.first", samples[0] if samples else None, "ms")
            finally:
                t.teardown()

    # -------------------------------------------------------- 2. memory per idle session

    def w_memory(self):
        counts = [100] if self.quick else [100, 1000]
        for n in counts:
            for tn in self.tools:
                if self.over_budget(f"memory {tn} x{n}"):
                    continue
                t = self.tool(tn, f"mem{n}")
                try:
                    names = [f"m{i:04d}" for i in range(n)]
                    start = time.monotonic()
                    t.create(names[0], SLEEP)  # the first one may start a server
                    errors = []

                    def one(name, t=t, errors=errors):
                        try:
                            t.create(name, SLEEP, timeout=60)
                        except Exception as e:  # noqa: BLE001
                            errors.append(str(e))

                    with ThreadPoolExecutor(max_workers=8) as ex:
                        list(ex.map(one, names[1:]))
                    ok = wait_until(lambda: t.count_ready() >= n, 60, 0.2)
                    took = time.monotonic() - start
                    if errors or not ok:
                        self.res.notes.append(f"{tn}: {len(errors)} of {n} creates failed"
                                              f"{'' if ok else ', not all ready'}: "
                                              f"{errors[0] if errors else ''}")
                    time.sleep(1.0)
                    pids = t.mem_pids()
                    rss = pss = 0
                    for pid in pids:
                        r, p = smaps(pid)
                        rss += r
                        pss += p
                    self.res.add(f"rss{n}", tn, rss / n)
                    self.res.add(f"pss{n}", tn, pss / n)
                    self.res.line(f"{tn}.rss_per_session.{n}", rss / n, "KiB")
                    self.res.line(f"{tn}.pss_per_session.{n}", pss / n, "KiB")
                    self.res.line(f"{tn}.processes.{n}", len(pids), "processes")
                    self.res.line(f"{tn}.create_all.{n}", took, "s")
                finally:
                    t.teardown()

    # -------------------------------------------------------- 3. throughput (+ 6. disk)

    def w_throughput(self):
        reps = 1 if self.quick else 3
        for cname, (path, nbytes, nlines) in self.corpora.items():
            for tn in self.tools:
                if self.over_budget(f"throughput {cname} {tn}"):
                    continue
                t = self.tool(tn, f"tp-{cname}")
                runs = []
                try:
                    for k in range(reps):
                        runs.append(self.throughput_run(t, f"t{k:04d}", cname, path, nbytes, nlines))
                    if tn == "roost" and cname == "ansi":
                        self.disk_usage(t, runs[-1]["name"], runs[-1]["recorded"])
                except Exception as e:  # noqa: BLE001
                    self.res.notes.append(f"{tn}: {cname} throughput failed: {e}")
                    log(f"{tn}: {cname} throughput failed: {e}")
                finally:
                    t.teardown()
                if not runs:
                    continue

                def med(key, runs=runs):
                    vals = [r[key] for r in runs if r[key] is not None]
                    return statistics.median(vals) if vals else None

                # Median speed and CPU over the runs; the worst run for completeness.
                self.res.add(f"tp_{cname}", tn, med("mbs") if all(r["mbs"] for r in runs) else None)
                self.res.add(f"tpb_{cname}", tn, min(r["pct"] for r in runs))
                self.res.add(f"tpc_{cname}", tn, med("cpu100"))
                self.res.add(f"tpcc_{cname}", tn, med("ccpu100"))
                if t.redraw_mark:
                    self.res.add(f"tpr_{cname}", tn, sum(r["redraws"] for r in runs))

    def throughput_run(self, t, name, cname, path, nbytes, nlines):
        """One attached run of one corpus through one tool; returns its figures."""
        tn = t.name
        prog = ["sh", "-c", f"read x; cat '{path}'; printf '\\nBENCH-%s-MARK\\n' END; exec sleep 100000"]
        t.create(name, prog)
        wait_until(lambda: t.server_pid(name) is not None, 10)
        spid = t.server_pid(name)
        if spid is None:
            raise RuntimeError("no server process found for the session")
        cpu0 = cpu_seconds(spid)
        timeout = 60 if self.quick else 240
        count = ["--count", t.redraw_mark] if t.redraw_mark else []
        kv = helper(["stream", "--marker", END_MARK, "--gate", "go\r", "--timeout", timeout,
                     "--detach", t.detach_keys, "--cols", COLS, "--rows", ROWS] + count +
                    ["--"] + t.attach_argv(name), t.env, timeout=timeout + 30)
        cpu1 = cpu_seconds(spid)
        found = kv.get("found") == "1"
        # What a faithful byte stream carries: the echoed gate "go\r\n", the corpus with
        # ONLCR turning each \n into \r\n, then "\r\nBENCH-END-MARK\r\n".
        expected = 4 + nbytes + nlines + 2 + len(END_MARK) + 2
        got = int(kv.get("after", 0))
        secs = int(kv.get("elapsed_ns", 0)) / 1e9
        cpu = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
        ccpu = float(kv.get("client_cpu", 0))
        r = {"name": name, "mbs": nbytes / MB / secs if found and secs > 0 else None,
             "pct": 100.0 * got / expected, "cpu100": cpu * (100 * MB / nbytes) if cpu is not None else None,
             "ccpu100": ccpu * (100 * MB / nbytes), "recorded": None,
             "redraws": int(kv.get("counted", 0))}
        tag = f"{tn}.{cname}.{name}"
        self.res.line(f"{tag}.throughput", r["mbs"], "MB/s")
        self.res.line(f"{tag}.client_bytes", got, "bytes")
        self.res.line(f"{tag}.client_bytes_expected", expected, "bytes")
        self.res.line(f"{tag}.server_cpu", cpu, "s")
        self.res.line(f"{tag}.client_cpu", ccpu, "s")
        if not found:
            self.res.notes.append(f"{tn}: {cname} throughput ({name}): end marker never reached the client "
                                  f"within {timeout} s ({got} bytes arrived; raw={kv.get('raw')})")
        if tn in ("roost", "dtach") and found and got < expected:
            self.res.notes.append(f"{tn}: {cname} ({name}): {expected - got} bytes of {expected} did not "
                                  f"reach the attached client ({100.0 * got / expected:.3f}%)")
        if t.redraw_mark:
            n = int(kv.get("counted", 0))
            self.res.line(f"{tag}.redraws", n, "redraws")
            if n > 0:
                self.res.notes.append(f"{tn}: {cname} ({name}): the holder stopped sending live output to the "
                                      f"attached client {n} time(s) and sent a screen redraw instead (the "
                                      "client was more than 1 MiB behind); `roost attach` does not tell "
                                      "the user")
        if tn == "roost":
            info = t.info(name)
            r["recorded"] = rec = int(info.get("bytes", -1))
            self.res.line(f"{tag}.holder_bytes", rec, "bytes")
            self.res.line(f"{tag}.vt_resyncs", int(info.get("vt_resyncs", -1)), "resyncs")
            if rec != expected:
                self.res.notes.append(f"roost: {cname} ({name}): holder recorded {rec} output bytes, the "
                                      f"stream should be {expected}")
        return r

    def disk_usage(self, t, name, recorded):
        """6. log/ bytes after the holder sealed, per output byte."""
        sid = t.session_id(name)
        hpid = t.server_pid(name)
        logdir = t.home / "state" / "sessions" / sid / "log"
        t.kill(name)
        if hpid and wait_gone([hpid], 30):
            self.res.notes.append("roost: holder did not exit within 30 s after kill (linger 0)")
        files = list(logdir.iterdir()) if logdir.exists() else []
        apparent = sum(f.stat().st_size for f in files if f.is_file())
        alloc = sum(f.stat().st_blocks * 512 for f in files if f.is_file())
        open_logs = [f.name for f in files if f.suffix == ".log"]
        # What the log still holds (the default cap drops the oldest output past 50 MiB).
        kept_path = t.dir / "kept.raw"
        kv = helper(["spawn", "--out", kept_path, "--", t.bin, "history", "--format", "raw", name],
                    t.env, timeout=120)
        kept = kept_path.stat().st_size if kept_path.exists() else 0
        kept_path.unlink(missing_ok=True)
        self.res.add("disk", "roost", apparent / kept if kept else None)
        self.res.add("disk_all", "roost", apparent / recorded if recorded > 0 else None)
        base = self.zstd_baseline(kept)
        if base is not None:
            self.res.line("roost.disk.zstd3_1MiB_baseline", base, "ratio")
        self.res.line("roost.disk.log_bytes", apparent, "bytes")
        self.res.line("roost.disk.log_alloc_bytes", alloc, "bytes")
        self.res.line("roost.disk.output_bytes", recorded, "bytes")
        self.res.line("roost.disk.kept_output_bytes", kept, "bytes")
        self.res.line("roost.disk.per_kept_output_byte", apparent / kept if kept else None, "ratio")
        self.res.line("roost.disk.per_output_byte", apparent / recorded if recorded > 0 else None, "ratio")
        self.res.line("roost.disk.segments", len(files), "files")
        if kv.get("status") != "0":
            self.res.notes.append(f"roost: history after exit failed (status {kv.get('status')})")
        if open_logs and len(open_logs) > 1:
            self.res.notes.append(f"roost: {len(open_logs)} unsealed .log segments remain after the holder exited")
        for tn in ("tmux", "screen", "dtach"):
            self.res.add("disk", tn, None)
            self.res.add("disk_all", tn, None)

    def zstd_baseline(self, kept):
        """What `zstd -3` makes of the last `kept` corpus bytes in 1 MiB pieces (roost's segment size)."""
        if shutil.which("zstd") is None or kept <= 0:
            return None
        path = self.corpora["ansi"][0]
        size = path.stat().st_size
        total = done = 0
        with open(path, "rb") as f:
            f.seek(max(0, size - kept))
            while True:
                piece = f.read(1 << 20)
                if not piece:
                    break
                p = subprocess.run(["zstd", "-3", "-c", "-q"], input=piece, capture_output=True, timeout=60)
                total += len(p.stdout)
                done += len(piece)
        return total / done if done else None

    # -------------------------------------------------------- 4. reattach + 5. history

    def w_reattach_history(self):
        path, nbytes, nlines = self.c10
        hist = nlines + 1000
        for tn in self.tools:
            if self.over_budget(f"reattach/history {tn}"):
                continue
            t = self.tool(tn, "reattach", history_lines=hist)
            name = "r0001"
            prog = ["sh", "-c", f"cat '{path}'; printf '\\n%s-%s-%s\\n' REATTACH FINAL LINE; exec sleep 100000"]
            try:
                t.create(name, prog)
                if tn == "dtach":
                    # No screen state: an attaching dtach client sees nothing until new output.
                    for key in ("reattach", "hist_raw", "hist_text", "hist_raw_c", "hist_text_c"):
                        self.res.add(key, tn, None)
                    continue
                if not wait_until(lambda: t.screen_contains(name, FINAL_MARK), 120, 0.2):
                    raise RuntimeError("the 10 MB never finished reaching the screen")
                samples = []
                for _ in range(5):
                    wait_until(lambda: t.is_detached(name), 10, 0.02)
                    kv = helper(["first", "--marker", FINAL_MARK, "--timeout", 20, "--detach",
                                 t.detach_keys, "--cols", COLS, "--rows", ROWS, "--"] +
                                t.attach_argv(name), t.env, timeout=40)
                    if kv.get("found") == "1":
                        samples.append(int(kv["elapsed_ns"]) / 1e6)
                    else:
                        self.res.notes.append(f"{tn}: reattach: final line not seen ({kv.get('bytes')} bytes)")
                med = statistics.median(samples) if samples else None
                self.res.add("reattach", tn, med)
                self.res.line(f"{tn}.reattach.median", med, "ms")
                self.res.line(f"{tn}.reattach.samples", ",".join(f"{s:.2f}" for s in samples), "ms")
                wait_until(lambda: t.is_detached(name), 10, 0.05)
                self.history_one(t, name, path, nlines)
            except Exception as e:  # noqa: BLE001
                self.res.notes.append(f"{tn}: reattach/history failed: {e}")
                log(f"{tn}: reattach/history failed: {e}")
            finally:
                t.teardown()

    def history_one(self, t, name, corpus, nlines):
        """5. Retrieve the whole history; completeness = numbered corpus lines present."""
        out = t.dir / "hist"
        want = set(range(1, nlines + 1))
        pat = re.compile(rb"(?m)^\s*(\d+) [-dl][-r][-w]")
        for fmt_, secs, status, path in t.history(name, out):
            try:
                data = Path(path).read_bytes()
            except OSError:
                data = b""
            frac = 100.0 * len({int(m.group(1)) for m in pat.finditer(data)} & want) / nlines
            # The peers have one (text) retrieval; it is compared with both of roost's.
            keys = [f"hist_{fmt_}"] if t.name == "roost" else ["hist_raw", "hist_text"]
            for k in keys:
                self.res.add(k, t.name, secs * 1000 if status == 0 else None)
                self.res.add(k + "_c", t.name, frac)
            self.res.line(f"{t.name}.history.{fmt_}.time", secs * 1000, "ms")
            self.res.line(f"{t.name}.history.{fmt_}.lines_present", frac, "%")
            self.res.line(f"{t.name}.history.{fmt_}.bytes", len(data), "bytes")
            if status != 0:
                self.res.notes.append(f"{t.name}: history ({fmt_}) exited with status {status}")
            if t.name == "roost" and fmt_ == "raw":
                exact = Path(corpus).read_bytes().replace(b"\n", b"\r\n") in data
                self.res.line("roost.history.raw.exact", exact, "")
                if not exact:
                    self.res.notes.append("roost: history --format raw does not contain the 10 MB stream "
                                          "byte for byte")

    # -------------------------------------------------------- driver

    def prepare(self):
        OUT.mkdir(exist_ok=True)
        src = BENCH / "bench-pty.c"
        if not HELPER.exists() or HELPER.stat().st_mtime < src.stat().st_mtime:
            subprocess.run(["cc", "-O2", "-Wall", "-o", str(HELPER), str(src), "-lutil"], check=True)
        if "roost" in self.tools and not (self.roost.exists() and self.holder.exists()):
            log("building roost (cmake)")
            bd = str(Path(self.args.build_dir).resolve())
            subprocess.run(["cmake", "-S", str(ROOT), "-B", bd, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["cmake", "--build", bd, "-j2"], check=True, stdout=subprocess.DEVNULL)
        for tool in self.tools:
            if tool != "roost" and shutil.which(tool) is None:
                sys.exit(f"bench: '{tool}' is not installed")
        if "roost" in self.tools:
            # Run a private copy: a rebuild of build/ during the run must not swap binaries under it.
            # roost finds roost-holder beside its own executable.
            bdir = self.tmp / "bin"
            bdir.mkdir()
            for b in (self.roost, self.holder):
                shutil.copy2(b, bdir / b.name)
            self.roost, self.holder = bdir / "roost", bdir / "roost-holder"
        self.load_before = os.getloadavg()
        cdir = self.tmp / "corpus"
        cdir.mkdir()
        nb = self.mb * MB
        log(f"generating corpora ({self.mb} MB each) in {cdir}")
        a = cdir / "ansi.txt"
        b = cdir / "b64.txt"
        c = cdir / "ansi10.txt"
        self.corpora = {"ansi": (a, *write_ansi_corpus(a, nb)), "base64": (b, *write_b64_corpus(b, nb))}
        self.c10 = (c, *write_ansi_corpus(c, 10 * MB, seed=7))
        self.define_rows()

    def define_rows(self):
        d = self.res.define
        n = 20 if self.quick else 50
        d("create_med", f"create→ready latency, median (N={n})", "ms", "lower")
        d("create_p90", f"create→ready latency, p90 (N={n})", "ms", "lower")
        for k in ([100] if self.quick else [100, 1000]):
            d(f"rss{k}", f"RSS per idle session, {k} sessions", "KiB", "lower",
              "holders / tmux server ÷ N / SCREEN backends / dtach masters; the programs are excluded")
            d(f"pss{k}", f"PSS per idle session, {k} sessions", "KiB", "lower")
        for c in self.corpora:
            d(f"tp_{c}", f"throughput, client attached, {c} {self.mb} MB", "MB/s", "higher",
              "corpus bytes ÷ time from the gate to the end marker at the client; when roost skips "
              "live output for a lagging client (see the skips row) that client also has less to write")
            d(f"tpb_{c}", f"bytes at client ÷ faithful stream, {c}", "%", "higher",
              "tmux and screen re-render the screen, so their byte count is not a copy of the stream "
              "(n/c: not comparable); for roost and dtach 100% means every byte arrived",
              no_ratio=("tmux", "screen"))
            d(f"tpr_{c}", f"times roost skipped live output for the client (redraw instead), {c}",
              "skips", "lower", "total over the runs; tmux, screen and dtach have no such count")
            d(f"tpc_{c}", f"holder/server CPU per 100 MB, {c}", "s", "lower")
            d(f"tpcc_{c}", f"attach client CPU per 100 MB, {c}", "s", "lower",
              "tmux and screen servers write to the client's terminal themselves, so their clients "
              "idle (n/c) and their servers' CPU includes that work; roost and dtach clients copy the "
              "stream", no_ratio=("tmux", "screen"))
        d("reattach", "reattach after 10 MB: final line at client, median of 5", "ms", "lower",
          "dtach keeps no screen, so an attaching client sees nothing until new output")
        d("hist_raw", "history of 10 MB: time (roost raw; tmux capture-pane -S -; screen hardcopy -h)",
          "ms", "lower")
        d("hist_raw_c", "history of 10 MB: numbered lines present (roost raw)", "%", "higher")
        d("hist_text", "history of 10 MB: time (roost text; same peers)", "ms", "lower")
        d("hist_text_c", "history of 10 MB: numbered lines present (roost text)", "%", "higher")
        d("disk", "history disk bytes per output byte kept (ANSI, sealed)", "ratio", "lower",
          "log/ size after the holder exited ÷ output bytes the log still holds (roost caps history "
          "at 50 MiB by default, so the oldest half of the 100 MB is gone); the others keep history "
          "in RAM only. For scale, `zstd -3` of the same bytes in 1 MiB pieces is printed as "
          "roost.disk.zstd3_1MiB_baseline")
        d("disk_all", "history disk bytes per output byte written (ANSI, sealed)", "ratio", "lower",
          "log/ size ÷ all output bytes of the session, including those the cap dropped")

    def versions(self):
        def first(argv):
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                return (p.stdout + p.stderr).strip().splitlines()[0]
            except (OSError, IndexError, subprocess.SubprocessError):
                return "?"
        cpu = "?"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        mem = "?"
        try:
            for line in open("/proc/meminfo"):
                if line.startswith("MemTotal"):
                    mem = f"{int(line.split()[1]) // 1024} MiB"
        except OSError:
            pass
        return {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": str(os.cpu_count()),
            "cpu": cpu,
            "memory": mem,
            "kernel": f"{platform.system()} {platform.release()}",
            "roost": first([str(self.build_roost), "--version"]) + (f" (git {self.git_rev()})"),
            "load": "load average {:.2f} before, {:.2f} after (1 min)".format(
                getattr(self, "load_before", (0,))[0], os.getloadavg()[0]),
            "tmux": first(["tmux", "-V"]),
            "screen": first(["screen", "-v"]),
            "dtach": first(["dtach", "--help"]).replace(" - version", ""),
            "python": platform.python_version(),
        }

    def git_rev(self):
        try:
            p = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                               text=True, timeout=10)
            rev = p.stdout.strip() or "none"
            d = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True,
                               text=True, timeout=10)
            return rev + ("+dirty" if d.stdout.strip() else "")
        except (OSError, subprocess.SubprocessError):
            return "?"

    def run(self):
        self.prepare()
        # Reattach and history before throughput, whose 100s of MB of writeback would disturb them.
        steps = [("create latency", self.w_create), ("memory", self.w_memory),
                 ("reattach + history", self.w_reattach_history), ("throughput", self.w_throughput)]
        for what, fn in steps:
            if self.args.only and not any(o in what for o in self.args.only.split(",")):
                continue
            if self.over_budget(what):
                continue
            log(f"== {what} ({time.monotonic() - self.t0:.0f} s)")
            os.sync()  # start each workload without the previous one's dirty pages in flight
            time.sleep(0.5)
            fn()

    def cleanup(self):
        for t in list(Tool.all_instances):
            try:
                t.teardown()
            except Exception as e:  # noqa: BLE001
                log(f"cleanup {t.name}: {e}")
        # Anything still carrying one of our tags (a session program that escaped its server).
        prefix = (b"BENCH_TAG=" + str(self.tmp).encode() + b":")
        stray = []
        for pid, _ in proc_list():
            if pid == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if prefix in f.read():
                        stray.append(pid)
            except OSError:
                pass
        if stray:
            kill_pids(stray, signal.SIGKILL)
            wait_gone(stray, 5)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- report

def ratio_cell(r, peer, better):
    if r is None or peer is None or isinstance(r, str) or isinstance(peer, str):
        return "—"
    if peer == 0:
        return "—"
    x = r / peer
    if better == "lower":
        verdict = "better" if x < 1 else ("same" if x == 1 else "worse")
    elif better == "higher":
        verdict = "better" if x > 1 else ("same" if x == 1 else "worse")
    else:
        verdict = ""
    return f"{x:.2f}× {verdict}".strip()


def table(res, tools, md):
    peers = [t for t in tools if t != "roost"]
    head = ["workload", "unit", "better"] + tools + ([f"roost÷{p}" for p in peers] if "roost" in tools else [])
    rows = []
    for key, r in res.rows.items():
        if not r["values"]:
            continue  # a workload that did not run
        vals = [fmt(r["values"].get(t)) for t in tools]
        ratios = [ratio_cell(r["values"].get("roost"), r["values"].get(p), r["better"])
                  if p not in r["no_ratio"] else "n/c" for p in peers] if "roost" in tools else []
        rows.append([r["label"], r["unit"], r["better"]] + vals + ratios)
    if md:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(str(x[i])) for x in [head] + rows) for i in range(len(head))]
    widths[0] = min(widths[0], 60)
    lines = ["  ".join(str(c)[:widths[i]].ljust(widths[i]) for i, c in enumerate(head))]
    for row in rows:
        lines.append("  ".join(str(c)[:widths[i]].ljust(widths[i]) for i, c in enumerate(row)))
    return "\n".join(lines)


def targets(res):
    def v(key, tool="roost"):
        r = res.rows.get(key)
        return r["values"].get(tool) if r else None

    out = []

    def check(desc, ok, detail):
        out.append(f"- {'PASS' if ok else ('FAIL' if ok is not None else 'N/A')}: {desc} — {detail}")

    for c in ("ansi", "base64"):
        r, d = v(f"tp_{c}"), v(f"tp_{c}", "dtach")
        check(f"{c}: roost MB/s ≥ 0.9 × dtach", None if r is None or d is None else r >= 0.9 * d,
              f"roost {fmt(r)} MB/s, dtach {fmt(d)} MB/s")
        b = v(f"tpb_{c}")
        check(f"{c}: every byte reaches the attached client", None if b is None else b >= 100.0,
              f"{fmt(b)}% of the expected stream")
        cpu = v(f"tpc_{c}")
        check(f"{c}: holder CPU ≤ 1.0 s per 100 MB", None if cpu is None else cpu <= 1.0, f"{fmt(cpu)} s")
    r = v("reattach")
    check("reattach after 10 MB ≤ 5 ms", None if r is None else r <= 5.0,
          f"roost {fmt(r)} ms, tmux {fmt(v('reattach', 'tmux'))} ms")
    d = v("disk")
    check("history disk bytes per output byte ≤ 0.125", None if d is None else d <= 0.125,
          f"{fmt(d)} per byte kept; {fmt(v('disk_all'))} per byte written (the cap dropped the rest)")
    return "\n".join(out)


def write_results(bench, info, path, cmdline, elapsed):
    res = bench.res
    lines = [
        "# roost benchmark results",
        "",
        f"Generated by `{cmdline}` ({'quick' if bench.quick else 'full'} run, {elapsed:.0f} s). "
        "See bench/README.md for what each workload measures and its caveats.",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}, {info['memory']} RAM, {info['kernel']}; "
        f"{info['load']}",
        f"- roost: {info['roost']}",
        f"- tmux: {info['tmux']}; screen: {info['screen']}; dtach: {info['dtach']}; python {info['python']}",
        f"- corpora: {bench.mb} MB ANSI `ls -il`-like lines, {bench.mb} MB base64 (76 columns); "
        "10 MB numbered ANSI lines for reattach and history",
        "",
        "Ratios are roost ÷ peer; the *better* column says which direction is better, and each ratio says "
        "whether roost is better or worse than that peer. N/A: the tool cannot do it or has no such "
        "figure; n/c: the two figures are not comparable (see the notes on rows).",
        "",
        table(res, bench.tools, md=True),
        "",
        "Notes on rows:",
        "",
    ]
    for r in res.rows.values():
        if r.get("note") and r["values"]:
            lines.append(f"- {r['label']}: {r['note']}")
    lines += ["", "## Targets", "", targets(res), "", "## Issues and notes from this run", ""]
    lines += [f"- {n}" for n in res.notes] or ["- none"]
    lines += ["", "## All figures", "", "```"]
    lines += [f"{n}: {fmt(v)} {u}".rstrip() for n, v, u in res.extra]
    lines += ["```", ""]
    Path(path).write_text("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples, no 1000-session run (< 3 min)")
    ap.add_argument("--mb", type=int, default=0, help="size of each throughput corpus in MB (default 100)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of roost,tmux,screen,dtach")
    ap.add_argument("--only", default="", help="comma-separated workloads: create,memory,throughput,reattach")
    ap.add_argument("--build-dir", default=str(ROOT / "build"), help="where roost and roost-holder are")
    ap.add_argument("--results", default=str(BENCH / "RESULTS.md"), help="where to write the report "
                    "('-' for nowhere)")
    ap.add_argument("--budget", type=float, default=0, help="seconds after which remaining workloads are skipped")
    args = ap.parse_args()

    bench = Bench(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    cmdline = "python3 bench/bench.py" + "".join(f" {a}" for a in sys.argv[1:])
    try:
        bench.run()
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        bench.cleanup()
        sys.exit(130)
    finally:
        bench.cleanup()
    elapsed = time.monotonic() - bench.t0
    info = bench.versions()
    print()
    for key, r in bench.res.rows.items():
        for tool in bench.tools:
            if tool in r["values"]:
                bench.res.line(f"summary.{tool}.{slug(key)}", r["values"][tool], r["unit"])
    print()
    print(table(bench.res, bench.tools, md=False))
    print()
    print(targets(bench.res))
    if bench.res.notes:
        print("\nnotes:")
        for n in bench.res.notes:
            print(f"  - {n}")
    if args.results != "-":
        write_results(bench, info, args.results, cmdline, elapsed)
        log(f"wrote {args.results} ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
