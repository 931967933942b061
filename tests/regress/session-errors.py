"""Bad input of every kind gets a clear message and the documented exit code,
and leaves nothing behind."""
import os

from harness import Env, check, main, wait_for


def expect(env, args, code, text):
    p = env.run(*args)
    err = p.stderr.decode()
    check(p.returncode == code, "roost %s: exit %d, wanted %d (%r)" % (" ".join(args), p.returncode, code, err))
    check(text in err, "roost %s: %r lacks %r" % (" ".join(args), err, text))
    check(err.startswith("roost: "), "message prefix: %r" % err)


def test_exec_failure(env: Env):
    expect(env, ["new", "-d", "-s", "nope", "--", "/no/such/program"], 127, "cannot execute '/no/such/program'")
    expect(env, ["new", "-d", "--", "/etc/passwd"], 126, "cannot execute '/etc/passwd'")
    check(env.ls() == [], "a failed session is listed: %r" % env.ls())
    check(env.processes() == [], "processes left behind: %r" % env.processes())
    check(not os.path.exists(os.path.join(env.home, "state", "names", "nope")), "name left bound")
    # the name is free again
    env.new("nope", "/bin/sh")


def test_bad_names(env: Env):
    for bad in ["", "-x", ".hidden", "a/b", "../etc", "a b", "x" * 65, "caf\u00e9", "a\nb"]:
        p = env.run("new", "-d", "-s", bad, "--", "/bin/sh")
        check(p.returncode == 2, "name %r: exit %d" % (bad, p.returncode))
    check(env.ls() == [], "sessions created from bad names")
    expect(env, ["attach", "../../etc/passwd"], 2, "invalid session name")
    expect(env, ["capture", "no-such"], 3, "no session 'no-such'")
    expect(env, ["history", "no-such"], 3, "no session 'no-such'")
    expect(env, ["kill", "no-such"], 3, "no session 'no-such'")
    expect(env, ["wait", "no-such"], 3, "no session 'no-such'")
    expect(env, ["send", "no-such", "x"], 3, "no session 'no-such'")


def test_bad_flags(env: Env):
    expect(env, ["frobnicate"], 2, "unknown command 'frobnicate'")
    expect(env, ["new", "-d", "--bogus"], 2, "usage")
    expect(env, ["new", "-d", "-C", "/no/such/dir", "--", "/bin/sh"], 2, "not a directory: '/no/such/dir'")
    expect(env, ["new", "-d", "-C", "/etc/passwd", "--", "/bin/sh"], 2, "not a directory")
    expect(env, ["new", "-d", "-e", "NOEQUALS", "--", "/bin/sh"], 2, "bad environment setting")
    expect(env, ["new", "-d", "--linger", "-5", "--", "/bin/sh"], 2, "bad linger")
    expect(env, ["ls", "extra"], 2, "usage")
    check(env.ls() == [], "sessions created from bad flags")
    env.new("s", "/bin/sh")
    expect(env, ["kill", "-s", "NOTASIG", "s"], 2, "unknown signal 'NOTASIG'")
    expect(env, ["kill", "-s", "999", "s"], 2, "unknown signal '999'")
    expect(env, ["history", "s", "--format", "html"], 2, "unknown format 'html'")
    expect(env, ["history", "s", "--tail", "abc"], 2, "bad --tail 'abc'")
    expect(env, ["history", "s", "--tail", "5", "--format", "asciicast"], 2, "not supported with asciicast")
    expect(env, ["attach", "--detach-key", "^^^", "s"], 2, "bad detach key")
    expect(env, ["send", "s"], 2, "usage")
    p = env.run("new", "-s", "tty")
    check(p.returncode == 2 and b"not a terminal" in p.stderr, "attach without a terminal: %r" % (p,))
    expect(env, ["attach", "s"], 2, "needs a terminal")
    check(env.session("s")["state"] == "running", "the session survived bad requests")


def test_exited_session_refuses(env: Env):
    env.new("gone", "/bin/true")
    env.run("wait", "gone", check_rc=0)
    p = env.run("kill", "gone")
    check(p.returncode == 5 and (b"has exited" in p.stderr or b"not running" in p.stderr),
          "kill after exit: %r" % (p,))


def test_bad_roost_home(env: Env):
    env.env["ROOST_HOME"] = "relative/path"
    expect(env, ["ls"], 2, "ROOST_HOME must be an absolute path")


if __name__ == "__main__":
    main([test_exec_failure, test_bad_names, test_bad_flags, test_exited_session_refuses,
          test_bad_roost_home])
