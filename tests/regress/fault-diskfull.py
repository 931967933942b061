"""Disk full: ROOST_HOME on a 2 MiB tmpfs, nearly filled by a filler file;
a session writes far more than fits. The holder keeps running and serving
(capture, send, info), `roost history` returns what fit without error,
and once space is freed recording resumes with a gap MARK in the log
("gap: N output bytes not recorded (write errors)") and the later output
present. Needs root for mount(8); skipped with a message otherwise."""
import os
import subprocess
import sys

from harness import Env, Client, check, main, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "progs"))
from faultlib import COUNTER, MARK, counter_runs, parse_records, segments  # noqa: E402

FREE = 256 << 10  # what the filler leaves free on the 2 MiB file system


def mount_tmpfs(env):
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", env.home],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        return "cannot mount a tmpfs (%s)" % p.stdout.decode(errors="replace").strip()
    return None


def test_disk_full_then_freed(env: Env):
    why = mount_tmpfs(env)
    if why:
        print("SKIP test_disk_full_then_freed: %s; needs root" % why, flush=True)
        return
    try:
        run_disk_full(env)
    finally:
        for pid in env.processes():  # nothing may keep the mount busy
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        subprocess.run(["umount", "-l", env.home], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def run_disk_full(env):
    st = os.statvfs(env.home)
    filler = os.path.join(env.home, "filler")
    with open(filler, "wb") as f:
        f.write(b"\0" * (st.f_bavail * st.f_frsize - FREE))
    script = ("python3 {c} 20000 40; echo PHASE1-DONE; read x; echo GOT-$x; read y; echo GOT2-$y; "
              "python3 {c} 300 10; echo PHASE2-DONE; read z").format(c=COUNTER)
    env.new("full", "/bin/sh", "-c", script)
    name = "full"
    sock = env.sock_path(name)
    pid = env.holder_pid(name)
    # About 1.1 MB of output against 256 KiB of space: the log fills up.
    wait_for(lambda: "PHASE1-DONE" in env.capture(name), "phase 1 on the screen")
    st = os.statvfs(env.home)
    check(st.f_bavail * st.f_frsize < 16 << 10, "the disk is not full: %d bytes free" % (
        st.f_bavail * st.f_frsize))
    with Client(sock) as c:
        i = c.info()
        check(i["state"] == "running" and int(i["holder_pid"]) == pid, "holder state %r" % i)
    # Still serving: send and capture while full.
    env.run("send", name, "alpha", "--enter", check_rc=0)
    wait_for(lambda: "GOT-alpha" in env.capture(name), "GOT-alpha on the screen")

    p = env.run("history", name)
    check(p.returncode == 0, "history on a full disk: exit %d: %r" % (p.returncode, p.stderr))
    runs, _ = counter_runs(p.stdout)
    check(runs and runs[0][0] == 0 and runs[0][1] > 1000,
          "history on a full disk does not start with lines 0..: %r" % runs[:3])
    full_lines = runs[0][1]
    check(full_lines < 20000, "all 20000 lines recorded on a 256 KiB disk?")
    for first, count in runs[1:]:
        check(first > runs[0][0] + runs[0][1], "lines out of order: %r" % runs[:5])

    # Free the space: recording resumes, with the gap noted first.
    os.unlink(filler)
    env.run("send", name, "beta", "--enter", check_rc=0)
    wait_for(lambda: "PHASE2-DONE" in env.capture(name), "phase 2 on the screen")
    with Client(sock) as c:
        check(c.info()["state"] == "running", "holder not running after the disk was freed")
    p = env.run("history", name)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 0, "history after freeing: exit %d: %s" % (p.returncode, err))
    out = p.stdout
    check(b"GOT2-beta" in out and b"PHASE2-DONE" in out, "output after freeing not recorded")
    tail = out[out.index(b"GOT2-beta"):]
    runs2, _ = counter_runs(tail, pad=10)
    check(runs2 and runs2[0] == (0, 300), "phase 2 lines not all recorded: %r" % runs2[:3])
    check(b"GOT-alpha" not in out or out.index(b"GOT-alpha") < out.index(b"GOT2-beta"), "order")
    check("gap" in err, "history does not name the gap on stderr: %r" % err)
    # The MARK itself, in the log.
    marks = []
    for num, (ext, data) in sorted(segments(os.path.join(env.session_dir(name), "log")).items()):
        recs, _ = parse_records(data)
        marks += [r[3] for r in recs if r[1] == MARK and r[3].startswith(b"gap:")]
    check(marks, "no gap MARK in the log")
    check(all(b"output bytes not recorded" in m for m in marks), "gap marks: %r" % marks)
    lost = sum(int(m.split()[1]) for m in marks)
    check(lost > 0, "gap marks say nothing was lost: %r" % marks)
    print("recorded %d of 20000 lines while full; %d gap mark(s), %d bytes not recorded; "
          "history warns: %r" % (full_lines, len(marks), lost, err.strip()[:200]), flush=True)


if __name__ == "__main__":
    main([test_disk_full_then_freed])
