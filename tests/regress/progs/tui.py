#!/usr/bin/env python3
"""A TUI-like program for the reattach tests: alternate screen, colours,
wide characters, bracketed paste, mouse, application keys, a title. It
redraws one status line per key it reads; 'q' leaves and exits."""
import os
import sys
import tty

w = sys.stdout.buffer


def out(s):
    w.write(s.encode())
    w.flush()


def draw_status(keys):
    out("\033[s\033[20;1H\033[0;1;33;44mkeys: %d last: %r\033[K\033[0m\033[u" % (len(keys), keys[-1:]))


out("main screen before the tui\r\n")
out("\033]2;roost-tui\007\033[?1049h\033[?2004h\033[?1h\033=\033[?1002h\033[?1006h\033[H\033[2J")
out("\033[1;31mbold red\033[0m \033[4;32munderlined green\033[0m \033[7mreverse\033[0m \033[3mitalic\033[0m\r\n")
out("".join("\033[38;5;%dm#" % i for i in range(16, 80)) + "\033[0m\r\n")
out("\033[38;2;255;128;0mtrue orange\033[0m \033[48;2;0;64;128mon blue\033[0m\r\n")
out("wide: \u6f22\u5b57\u304b\u306a and combining: e\u0301 done\r\n")
out("\033[10;30H\033[1;35m[ centre box ]\033[0m")
out("\033[24;1H\033[7m status bar \033[0m")
keys = []
draw_status(keys)
out("\033[12;5H")
fd = sys.stdin.fileno()
if os.isatty(fd):
    tty.setraw(fd)
while True:
    ch = os.read(fd, 1)
    if not ch:
        break
    keys.append(ch)
    draw_status(keys)
    if ch == b"q":
        break
out("\033[?1006l\033[?1002l\033[?1l\033>\033[?2004l\033[?1049l")
out("tui finished\r\n")
