"""Sessions from creation to exit: new, ls, send, capture, kill, wait, linger,
final screen after the holder is gone, names and ids."""
import os
import signal
import time

from harness import Env, Client, check, main, wait_for, ATTACH, INFO, EXIT

HERE = os.path.dirname(os.path.abspath(__file__))


def test_new_ls_send_capture_kill_wait(env: Env):
    env.new("work", "/bin/sh")
    s = env.session("work")
    check(s["state"] == "running", "state %r" % s)
    check(len(s["id"]) == 12 and s["pid"] > 0, "id/pid %r" % s)
    check(s["command"] == ["/bin/sh"], "command %r" % s)
    check(os.path.isdir(s["cwd"]), "cwd %r" % s)
    table = env.run("ls", check_rc=0).stdout.decode().splitlines()
    check(table[0].split() == ["NAME", "ID", "PID", "STATE", "CLIENTS", "BYTES", "CREATED", "CWD", "COMMAND"],
          "ls header %r" % table[0])
    row = table[1].split()
    check(row[:4] == ["work", s["id"], str(s["pid"]), "running"] and s["cwd"] in row and row[-1] == "/bin/sh",
          "ls row %r" % table[1])
    env.run("send", "work", "echo hello-$((6*7))", "--enter", check_rc=0)
    wait_for(lambda: "hello-42" in env.capture("work"), "echo output on the screen")
    # the program's environment
    env.run("send", "work", "echo T=$TERM S=$ROOST_SESSION", "--enter", check_rc=0)
    wait_for(lambda: "T=xterm-256color S=%s" % s["id"] in env.capture("work"), "TERM and ROOST_SESSION")
    # the history has every byte
    check(b"hello-42" in env.history("work"), "history lacks output")
    # an interactive shell ignores TERM; the default HUP ends it, as a closed terminal would
    env.run("kill", "work", check_rc=0)
    p = env.run("wait", "work")
    check(p.returncode == 128 + signal.SIGHUP, "wait returned %d" % p.returncode)
    s = env.session("work")
    check(s["state"] == "exited" and s["exit_status"] == 128 + signal.SIGHUP, "after kill: %r" % s)
    env.new("sleeper", "/bin/sleep", "1000")
    env.run("kill", "-s", "SIGKILL", "sleeper", check_rc=0)
    check(env.run("wait", "sleeper").returncode == 128 + signal.SIGKILL, "kill -s SIGKILL")


def test_exit_status_and_linger(env: Env):
    env.run("new", "-d", "-s", "quick", "--linger", "0", "--", "/bin/sh", "-c", "echo final words; exit 7",
            check_rc=0)
    p = env.run("wait", "quick")
    check(p.returncode == 7, "wait returned %d" % p.returncode)
    # the holder leaves after the linger period; capture and wait still work
    sock = os.path.join(env.home, "run", "s-%s.sock" % env.session("quick")["id"])
    wait_for(lambda: not os.path.exists(sock), "holder to go away")
    s = env.session("quick")
    check(s["state"] == "exited" and s["exit_status"] == 7 and not s["holder"], "ls after exit: %r" % s)
    check(s["bytes"] is not None and s["bytes"] > 0, "bytes after exit: %r" % s)
    check("final words" in env.capture("quick"), "capture after the holder is gone")
    check(env.run("wait", "quick").returncode == 7, "wait after the holder is gone")
    check(b"final words" in env.history("quick"), "history after the holder is gone")


def test_cwd_and_env(env: Env):
    d = os.path.join(env.home, "work dir")
    os.mkdir(d)
    env.run("new", "-d", "-s", "e", "-C", d, "-e", "FOO=bar baz", "-e", "EMPTY=", "--",
            "/bin/sh", "-c", 'echo "[$PWD|$FOO|${EMPTY-unset}]"; exit 0', check_rc=0)
    env.run("wait", "e", check_rc=0)
    out = env.capture("e")
    check("[%s|bar baz|]" % d in out, "cwd/env not applied: %r" % out)


def test_names_and_ids(env: Env):
    p = env.run("new", "-d", "--", "/bin/sh", check_rc=0)
    first = p.stdout.decode().strip()
    p = env.run("new", "-d", "--", "/bin/sh", check_rc=0)
    second = p.stdout.decode().strip()
    check(first != second and first.isdigit() and second.isdigit(), "default names %r %r" % (first, second))
    env.new("dup", "/bin/sh")
    p = env.run("new", "-d", "-s", "dup", "--", "/bin/sh")
    check(p.returncode == 4 and b"already exists" in p.stderr, "duplicate name: %r" % (p,))
    sid = env.session("dup")["id"]
    env.run("send", sid, "echo by-id", "--enter", check_rc=0)
    wait_for(lambda: "by-id" in env.capture(sid), "addressing by id")
    check(len([s for s in env.ls() if s["name"] == "dup"]) == 1, "one dup session")


def test_name_reused_after_exit(env: Env):
    env.run("new", "-d", "-s", "again", "--linger", "0", "--", "/bin/true", check_rc=0)
    env.run("wait", "again", check_rc=0)
    old = env.session("again")["id"]
    sock = os.path.join(env.home, "run", "s-%s.sock" % old)
    wait_for(lambda: not os.path.exists(sock), "first holder gone")
    env.new("again", "/bin/sh")
    new = env.session("again")["id"]
    check(new != old, "a new session takes the name")
    check(any(s["id"] == old for s in env.ls()), "the old session is still listed by id")


def test_holder_survives_creator(env: Env):
    # the creating CLI is gone at once; the holder is in its own session
    env.new("orphan", "/bin/sh")
    pid = env.holder_pid("orphan")
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ppid, pgrp, sid = int(fields[1]), int(fields[2]), int(fields[3])
    check(sid != os.getsid(0), "holder shares the creator's session")
    check(sid != pid, "holder is a session leader (no double fork)")
    # the socket, directories and files are private
    st = os.stat(os.path.join(env.home, "run"))
    check(st.st_mode & 0o777 == 0o700, "run dir mode %o" % st.st_mode)
    st = os.stat(env.sock_path("orphan"))
    check(st.st_mode & 0o777 == 0o600, "socket mode %o" % st.st_mode)
    d = env.session_dir("orphan")
    check(os.stat(d).st_mode & 0o777 == 0o700, "session dir mode")
    for root, dirs, files in os.walk(d):
        for f in files:
            m = os.stat(os.path.join(root, f)).st_mode & 0o777
            check(m == 0o600, "%s mode %o" % (f, m))


def test_wait_blocks_until_exit(env: Env):
    env.new("w", "/bin/sh", "-c", "read line; exit 3")
    import subprocess
    from harness import ROOST
    w = subprocess.Popen([ROOST, "wait", "w"], env=env.env)
    check(w.poll() is None, "wait returned before the program exited")
    env.run("send", "w", "go", "--enter", check_rc=0)
    check(w.wait(timeout=30) == 3, "wait status")


if __name__ == "__main__":
    main([test_new_ls_send_capture_kill_wait, test_exit_status_and_linger, test_cwd_and_env,
          test_names_and_ids, test_name_reused_after_exit, test_holder_survives_creator,
          test_wait_blocks_until_exit])
