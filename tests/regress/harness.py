"""Shared helpers for roost's regress tests.

Each test gets a private ROOST_HOME and kills every process that carries it
when it ends, like tmux's regress scripts. Real binaries (ROOST_BIN,
ROOST_HOLDER from ctest), real PTYs (tmux as the outer terminal), and a raw
protocol client for the holder socket. Waiting is always for a condition
with a deadline, never a bare sleep.
"""
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

ROOST = os.environ.get("ROOST_BIN", os.path.join(os.path.dirname(__file__), "../../build/roost"))
HOLDER = os.environ.get("ROOST_HOLDER", os.path.join(os.path.dirname(ROOST), "roost-holder"))
DEADLINE = float(os.environ.get("ROOST_TEST_DEADLINE", "30"))

# protocol (docs/protocol.md)
HELLO, WELCOME, DATA, INPUT, RESIZE, DETACH, EXIT, SIGNAL = 1, 2, 3, 4, 5, 6, 7, 8
INFO_REQ, INFO, SCREEN_REQ, SCREEN, ERROR, NOTICE, WAIT = 9, 10, 11, 12, 13, 14, 15
ATTACH, READONLY = 1, 2


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(pred, what, deadline=DEADLINE, interval=0.01):
    """Poll pred until it returns a true value; fail after deadline seconds."""
    end = time.monotonic() + deadline
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise Fail("timed out waiting for " + what)
        time.sleep(interval)


class Env:
    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="roost-test-")
        os.chmod(self.home, 0o700)
        self.env = dict(os.environ)
        self.env["ROOST_HOME"] = self.home
        self.env["ROOST_HOLDER"] = HOLDER
        self.env.pop("TMUX", None)
        self.tmux_sock = "roost-test-%d" % os.getpid()
        self.tmux_used = False

    # -- CLI
    def run(self, *args, input=None, check_rc=None, timeout=DEADLINE):
        p = subprocess.run([ROOST] + list(args), env=self.env, input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check_rc is not None and p.returncode != check_rc:
            raise Fail("roost %s: exit %d (wanted %d)\nstdout: %r\nstderr: %r" % (
                " ".join(args), p.returncode, check_rc, p.stdout[-2000:], p.stderr[-2000:]))
        return p

    def new(self, name, *cmd, extra=()):
        p = self.run("new", "-d", "-s", name, *extra, "--", *cmd, check_rc=0)
        check(p.stdout.decode().strip() == name, "new printed %r" % p.stdout)
        return name

    def ls(self):
        return json.loads(self.run("ls", "--json", check_rc=0).stdout)

    def session(self, name):
        for s in self.ls():
            if s["name"] == name:
                return s
        return None

    def sock_path(self, name):
        return os.path.join(self.home, "run", "s-%s.sock" % self.session(name)["id"])

    def session_dir(self, name):
        return os.path.join(self.home, "state", "sessions", self.session(name)["id"])

    def history(self, name, *args):
        return self.run("history", name, *args, check_rc=0).stdout

    def capture(self, name, *args):
        return self.run("capture", *args, name, check_rc=0).stdout.decode()

    def holder_pid(self, name):
        with Client(self.sock_path(name)) as c:
            return int(c.info()["holder_pid"])

    # -- tmux as the outer, real terminal
    def tmux(self, *args):
        self.tmux_used = True
        p = subprocess.run(["tmux", "-L", self.tmux_sock, "-f", "/dev/null"] + list(args),
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=DEADLINE)
        if p.returncode != 0:
            raise Fail("tmux %s: %s" % (" ".join(args), p.stderr.decode()))
        return p.stdout.decode()

    def pane(self, target, cmd, cols=80, rows=24):
        """Start cmd (a shell string) in a new tmux session named target."""
        self.tmux("new-session", "-d", "-s", target, "-x", str(cols), "-y", str(rows), cmd)
        self.tmux("set-option", "-t", target, "remain-on-exit", "on")
        self.tmux("set-option", "-t", target, "status", "off")

    def screen(self, target, escapes=False):
        args = ["capture-pane", "-p", "-t", target]
        if escapes:
            args.append("-e")
        return self.tmux(*args)

    def pane_flags(self, target):
        fmt = ("#{alternate_on} #{cursor_flag} #{keypad_cursor_flag} #{keypad_flag} "
               "#{mouse_any_flag} #{mouse_button_flag} #{mouse_sgr_flag} #{insert_flag} "
               "#{wrap_flag} #{origin_flag} #{cursor_x},#{cursor_y} #{pane_title}")
        return self.tmux("display", "-p", "-t", target, fmt).strip()

    def close(self):
        if self.tmux_used:
            subprocess.run(["tmux", "-L", self.tmux_sock, "kill-server"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)

    def processes(self):
        """Every process that carries this test's ROOST_HOME (holders and programs)."""
        mark = ("ROOST_HOME=" + self.home).encode() + b"\0"
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    if mark in f.read():
                        pids.append(int(d))
            except OSError:
                pass
        return pids


class Client:
    """A raw protocol client of a holder socket."""

    def __init__(self, path, flags=0, cols=80, rows=24, hello=True):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(DEADLINE)
        self.s.connect(path)
        self.buf = bytearray()
        self.pos = 0
        if hello:
            self.send(HELLO, struct.pack("<IIHH", 1, flags, cols, rows))

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.s.close()

    def send(self, typ, payload=b""):
        self.s.sendall(struct.pack("<BBHI", 1, typ, 0, len(payload)) + payload)

    def recv(self):
        """Next (type, payload), or None at EOF. Linear in the bytes read."""
        while True:
            avail = len(self.buf) - self.pos
            if avail >= 8:
                ver, typ, res, n = struct.unpack_from("<BBHI", self.buf, self.pos)
                if avail >= 8 + n:
                    start = self.pos + 8
                    payload = bytes(self.buf[start:start + n])
                    self.pos = start + n
                    if self.pos > (1 << 20):
                        del self.buf[:self.pos]
                        self.pos = 0
                    return typ, payload
            chunk = self.s.recv(1 << 20)
            if not chunk:
                return None
            self.buf += chunk

    def info(self):
        self.send(INFO_REQ)
        while True:
            f = self.recv()
            check(f is not None, "holder closed before INFO")
            if f[0] == INFO:
                out = {}
                for line in f[1].decode().splitlines():
                    k, _, v = line.partition("=")
                    out[k] = v
                return out


def main(tests):
    """Run test functions, each with a fresh Env; print a summary line."""
    passed = failed = 0
    only = sys.argv[1:]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        env = Env()
        start = time.monotonic()
        try:
            t(env)
            passed += 1
            print("ok   %s (%.2fs)" % (t.__name__, time.monotonic() - start), flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            failed += 1
            print("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e), flush=True)
            import traceback
            traceback.print_exc()
        finally:
            env.close()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
