"""Attach, detach and reattach through a real terminal (tmux as the outer
terminal): the screen and the modes after reattach equal those of the same
program run directly."""
import os
import shlex

from harness import Env, Client, ROOST, check, main, wait_for, ATTACH, DATA, SCREEN, WELCOME

HERE = os.path.dirname(os.path.abspath(__file__))
TUI = os.path.join(HERE, "progs", "tui.py")


def attach_cmd(name, *flags):
    return " ".join([shlex.quote(ROOST), "attach"] + list(flags) + [name])


def same_screen(env, a, b):
    sa, sb = env.screen(a, escapes=True), env.screen(b, escapes=True)
    return sa == sb and "centre box" in sa


def test_tui_reattach_exact(env: Env):
    env.new("tui", "python3", TUI)
    env.pane("direct", "python3 " + shlex.quote(TUI))
    # the pane outlives the client, so that the terminal state after detach can be read
    env.pane("a1", attach_cmd("tui") + "; exec cat")
    wait_for(lambda: same_screen(env, "direct", "a1"), "first attach to match the direct run")
    check(env.pane_flags("a1") == env.pane_flags("direct"),
          "modes after attach: %r vs %r" % (env.pane_flags("a1"), env.pane_flags("direct")))
    # type into both; the status line changes the same way
    env.tmux("send-keys", "-t", "a1", "x")
    env.tmux("send-keys", "-t", "direct", "x")
    wait_for(lambda: "keys: 1" in env.screen("a1") and same_screen(env, "direct", "a1"), "typed key")
    # detach with the default key
    env.tmux("send-keys", "-t", "a1", "C-\\")
    wait_for(lambda: "[detached from session tui]" in env.screen("a1"), "detach message")
    flags = env.pane_flags("a1").split()
    # alternate screen off, cursor visible, cursor/keypad keys normal, no mouse, no insert mode
    check(flags[:8] == ["0", "1", "0", "0", "0", "0", "0", "0"], "detach left the terminal in a mode: %r" % flags)
    # input while detached, then reattach elsewhere at the same size
    env.run("send", "tui", "y", check_rc=0)
    env.tmux("send-keys", "-t", "direct", "y")
    env.pane("a2", attach_cmd("tui"))
    wait_for(lambda: "keys: 2" in env.screen("a2") and same_screen(env, "direct", "a2"),
             "reattach to match the direct run")
    check(env.pane_flags("a2") == env.pane_flags("direct"),
          "modes after reattach: %r vs %r" % (env.pane_flags("a2"), env.pane_flags("direct")))
    # leaving the alternate screen shows the main screen underneath, as in the direct run
    env.tmux("send-keys", "-t", "a2", "q")
    env.tmux("send-keys", "-t", "direct", "q")
    wait_for(lambda: "exited: status 0" in env.screen("a2"), "exit message")
    text = env.capture("tui")
    check("main screen before the tui" in text and "tui finished" in text, "final screen: %r" % text)


def test_snapshot_carries_modes(env: Env):
    env.new("tui", "python3", TUI)
    wait_for(lambda: "centre box" in env.capture("tui"), "tui drawn")
    with Client(env.sock_path("tui"), flags=ATTACH) as c:
        f = c.recv()
        check(f[0] == WELCOME, "first frame %r" % (f,))
        snap = b""
        while b"\033[?1049h" not in snap or b"\033[?2004h" not in snap or b"\033[?1006h" not in snap:
            f = c.recv()
            check(f is not None and f[0] == SCREEN, "snapshot frames: %r" % (f,))
            snap += f[1]
    for seq in [b"\033[?1049h", b"\033[?2004h", b"\033[?1h", b"\033=", b"\033[?1002h", b"\033[?1006h",
                b"roost-tui"]:
        check(seq in snap, "snapshot lacks %r" % seq)


def test_readonly_attach(env: Env):
    env.new("ro", "/bin/sh")
    env.pane("r", attach_cmd("ro", "-r"))
    wait_for(lambda: "$" in env.screen("r") or "#" in env.screen("r"), "prompt in read-only client")
    env.tmux("send-keys", "-t", "r", "echo typed-ro", "Enter")
    env.run("send", "ro", "echo from-send", "--enter", check_rc=0)
    wait_for(lambda: "from-send" in env.screen("r"), "read-only client sees output")
    check("typed-ro" not in env.capture("ro"), "read-only client could type")


def test_size_follows_latest_client(env: Env):
    env.new("sz", "/bin/sh")
    env.pane("big", attach_cmd("sz"), cols=100, rows=30)
    wait_for(lambda: env.session("sz")["clients"] == 1, "the first client attached")
    env.run("send", "sz", "stty size", "--enter", check_rc=0)
    wait_for(lambda: "30 100" in env.capture("sz"), "size of the first client")
    env.pane("small", attach_cmd("sz"), cols=70, rows=20)
    wait_for(lambda: env.session("sz")["clients"] == 2, "the second client attached")
    env.run("send", "sz", "clear; stty size", "--enter", check_rc=0)
    wait_for(lambda: "20 70" in env.capture("sz"), "size of the latest client")
    env.tmux("send-keys", "-t", "big", "clear; stty size", "Enter")
    wait_for(lambda: "30 100" in env.capture("sz"), "size follows the client that typed")


if __name__ == "__main__":
    main([test_tui_reattach_exact, test_snapshot_carries_modes, test_readonly_attach,
          test_size_follows_latest_client])
