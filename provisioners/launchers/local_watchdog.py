"""Gateway Desktop: the kernel's process group cannot outlive the app that launched it.

    python3 -I -S local_watchdog.py FD [--remove FILE]... -- KERNEL_ARGV...

The app starts this as the leader of a new process group, with one end of a pipe on file descriptor FD that
only the app's other end keeps open. It forks a watchdog child and then execs the kernel in its own place, so
the kernel keeps this process's pid, its process group and its parent (the app): the app sees the kernel's
own exit code or signal, and signals it sends to the group reach the kernel as before.

The watchdog waits for one of two things:
  - the pipe reaches EOF: the app is gone, however it died (SIGKILL included), and even when the kernel was
    re-parented to a child subreaper such as `systemd --user` instead of pid 1. The watchdog then sends SIGTERM
    to the kernel's process group, waits up to GRACE_S for the kernel to exit, removes the --remove files (the
    connection file holds the kernel's HMAC key), and SIGKILLs the group, itself included;
  - the kernel exits: the watchdog exits too (the app deals with the rest of the group).
It ignores SIGINT, SIGTERM and SIGHUP, so an interrupt or terminate sent to the group goes to the kernel only.
Python 3 standard library only; no polling on Linux (pidfd) and macOS/BSD (kqueue).
"""

import os
import select
import signal
import sys

GRACE_S = 2.0
IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Python itself ignores these at startup; an exec'd kernel must get them as the app gave them: default.
RESET = IGNORED + tuple(getattr(signal, n) for n in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, n))


class KernelExit:
    """Waits for the kernel to exit, and for the app's pipe to become readable."""

    def __init__(self, kernel_pid, pidfd, pipe_fd):
        self.pid = kernel_pid
        self.pipe = pipe_fd
        self.pidfd = pidfd
        self.kq = None
        if pidfd is None and hasattr(select, "kqueue"):  # macOS, BSD
            try:
                self.kq = select.kqueue()
                proc = select.kevent(kernel_pid, select.KQ_FILTER_PROC, select.KQ_EV_ADD, select.KQ_NOTE_EXIT)
                self.kq.control([proc, select.kevent(pipe_fd, select.KQ_FILTER_READ, select.KQ_EV_ADD)], 0)
            except OSError:
                self.kq = None

    def gone(self):
        """Only for the fallback without pidfd or kqueue (a pid could be reused, but not within its poll)."""
        try:
            os.kill(self.pid, 0)
            return False
        except ProcessLookupError:
            return True
        except OSError:
            return False

    def wait(self, timeout=None, pipe=True):
        """Until the kernel exited ("kernel") or, with pipe=True, the app's pipe is readable ("pipe"); None on timeout."""
        if self.kq is not None:
            if not pipe:
                self.kq.control([select.kevent(self.pipe, select.KQ_FILTER_READ, select.KQ_EV_DELETE)], 0)
            events = self.kq.control(None, 2, timeout)
            if any(e.filter == select.KQ_FILTER_PROC for e in events):
                return "kernel"
            return "pipe" if events else None
        fds = ([self.pipe] if pipe else []) + ([self.pidfd] if self.pidfd is not None else [])
        # Without pidfd or kqueue: look at the kernel twice a second.
        step = timeout if self.pidfd is not None else (0.5 if timeout is None else min(timeout, 0.5))
        left = timeout
        while True:
            ready, _, _ = select.select(fds, [], [], step)
            if self.pidfd in ready or (self.pidfd is None and self.gone()):
                return "kernel"
            if ready:
                return "pipe"
            if left is not None:
                left -= step
                if left <= 0:
                    return None


def app_gone(pipe_fd):
    """Read what is there; True on EOF (or an error: the app's end is unusable either way)."""
    try:
        return os.read(pipe_fd, 512) == b""
    except OSError:
        return True


def watchdog(kernel_pid, pidfd, pipe_fd, ready_fd, remove):
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # never hold the kernel's output pipes open
        os.dup2(devnull, fd)
    os.close(devnull)
    try:
        os.chdir("/")
    except OSError:
        pass
    waiter = KernelExit(kernel_pid, pidfd, pipe_fd)
    os.close(ready_fd)  # watching: the kernel may start
    while True:
        if waiter.wait() == "kernel":
            os._exit(0)
        if app_gone(pipe_fd):
            break
    group = os.getpgrp()
    try:
        os.killpg(group, signal.SIGTERM)
    except OSError:
        pass
    waiter.wait(GRACE_S, pipe=False)
    for f in remove:
        try:
            os.unlink(f)
        except OSError:
            pass
    try:
        os.killpg(group, signal.SIGKILL)  # the rest of the group, and this watchdog
    except OSError:
        pass
    os._exit(0)


def main(argv):
    try:
        sep = argv.index("--")
        pipe_fd = int(argv[1])
    except (ValueError, IndexError):
        sys.stderr.write("usage: local_watchdog.py FD [--remove FILE]... -- KERNEL_ARGV...\n")
        return 2
    opts, cmd = argv[2:sep], argv[sep + 1 :]
    remove = [opts[i + 1] for i in range(len(opts) - 1) if opts[i] == "--remove"]
    if not cmd:
        sys.stderr.write("local_watchdog.py: no kernel command\n")
        return 2
    kernel_pid = os.getpid()
    pidfd = None
    if hasattr(os, "pidfd_open"):  # Linux >= 5.3: refers to this very process, inherited by the watchdog
        try:
            pidfd = os.pidfd_open(kernel_pid)  # close-on-exec: the kernel does not get it
        except OSError:
            pidfd = None
    for s in IGNORED:  # before fork: the watchdog must never die of a group signal
        signal.signal(s, signal.SIG_IGN)
    ready_r, ready_w = os.pipe()
    # Fork twice: the watchdog stays in the kernel's process group (it dies with a SIGKILL to the group, and the
    # group id cannot be reused while it lives) but is not the kernel's child, so the kernel does not see it
    # among its children (ipykernel terminates those at shutdown) and never has to reap it.
    middle = os.fork()
    if middle == 0:
        try:
            os.close(ready_r)
            if os.fork() == 0:
                watchdog(kernel_pid, pidfd, pipe_fd, ready_w, remove)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.waitpid(middle, 0)
    os.read(ready_r, 1)  # EOF once the watchdog watches (or died)
    os.close(ready_r)
    os.close(pipe_fd)  # only the watchdog holds it: the kernel and its children never see it
    if pidfd is not None:
        os.close(pidfd)
    for s in RESET:
        signal.signal(s, signal.SIG_DFL)
    try:
        os.execv(cmd[0], cmd)
    except OSError as e:
        sys.stderr.write("Kernel program %s cannot be executed: %s\n" % (cmd[0], e.strerror))
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv))
