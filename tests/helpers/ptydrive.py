#!/usr/bin/env python3
"""ptydrive.py TRANSCRIPT CMD...: run CMD as the session leader of a new
pseudo-terminal (stdin, stdout, stderr; its process group in the
foreground) and drive it with steps read from stdin, one a line:

  expect REGEX   wait (20 s at most) for REGEX in the output after the
                 previous match; exit 1 when it does not come
  send TEXT      type TEXT (the rest of the line, no newline)
  signal NAME    send signal NAME (e.g. SEGV) to CMD
  modes LABEL    print "LABEL icanon=0|1 echo=0|1" for the terminal
  wait           wait (20 s at most) for CMD to exit; print "status N"
                 (N: the exit status, or -SIG when killed by SIG)

Everything CMD writes goes to TRANSCRIPT. The slave side stays open here,
so the terminal's modes can be read after CMD has exited."""
import os, re, select, signal, sys, termios, time, fcntl

DEADLINE = 20.0


def main():
    transcript, cmd = sys.argv[1], sys.argv[2:]
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.close(slave)
        os.execvp(cmd[0], cmd)
    out = open(transcript, "wb")
    buf = b""
    pos = 0
    status = None

    def pump(timeout):
        nonlocal buf
        r, _, _ = select.select([master], [], [], timeout)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:
                data = b""
            buf += data
            out.write(data)
            out.flush()

    def reap(block):
        nonlocal status
        if status is None:
            p, st = os.waitpid(pid, 0 if block else os.WNOHANG)
            if p:
                status = os.WEXITSTATUS(st) if os.WIFEXITED(st) else -os.WTERMSIG(st)

    for line in sys.stdin:
        step, _, arg = line.rstrip("\n").partition(" ")
        if step == "expect":
            rx = re.compile(arg.encode())
            end = time.monotonic() + DEADLINE
            while True:
                m = rx.search(buf, pos)
                if m:
                    pos = m.end()
                    break
                if time.monotonic() > end:
                    print("expect: no /%s/ within %d s" % (arg, DEADLINE))
                    if status is None:
                        os.kill(pid, signal.SIGKILL)
                        reap(True)
                    return 1
                pump(0.05)
        elif step == "send":
            os.write(master, arg.encode())
        elif step == "signal":
            os.kill(pid, getattr(signal, "SIG" + arg))
        elif step == "modes":
            lflag = termios.tcgetattr(slave)[3]
            print("%s icanon=%d echo=%d" % (arg, bool(lflag & termios.ICANON),
                                          bool(lflag & termios.ECHO)))
        elif step == "wait":
            end = time.monotonic() + DEADLINE
            while status is None and time.monotonic() < end:
                pump(0.05)
                reap(False)
            if status is None:
                os.kill(pid, signal.SIGKILL)
                reap(True)
                print("wait: still running after %d s" % DEADLINE)
                return 1
            print("status %d" % status)
        sys.stdout.flush()
    if status is None:
        os.kill(pid, signal.SIGKILL)
        reap(True)
    return 0


sys.exit(main())
