"""Gateway Desktop remote kernel launcher, protocol GDL/1 (provisioners/README.md, "Remote launcher protocol").

    gd_launcher.py launch --kernel-id ID [--ip IP] [--port-range LO..HI] [--state-dir DIR]
                          [--lease-seconds N] -- KERNEL_ARGV...     (one JSON line on stdin: protocol, key, env)
    gd_launcher.py run --kernel-id ID [--ip IP] [--port-range LO..HI] [--state-dir DIR]
                       [--request-file FILE] -- KERNEL_ARGV...           (the same, without detaching)
    gd_launcher.py stop|status --kernel-id ID [--state-dir DIR]
    gd_launcher.py version

`launch` binds all six ports at once (so none repeats), writes the 0600 connection file, starts the kernel in
its own session and detaches: the foreground prints one `GDL1 <json> <hmac>` line and exits, so the SSH
session may close, while a background launcher serves the comm port (signals, status, lease, shutdown) and
watches the kernel. The app never needs an inbound connection: it reaches the comm port through SSH.
`run` is `launch` for a container whose main process the launcher is: it does not detach, prints the same line
on its stdout (the request comes on stdin, or from a file such as a Swarm secret), serves the comm port and
exits with the kernel's status once the kernel is gone.
Python 3.8+, standard library only.
"""

import errno
import hashlib
import hmac
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

VERSION = "1.0.0"
PROTOCOL = 1
MAX_REQUEST = 64 * 1024
STARTUP_S = 1.0  # a kernel that dies this soon is a launch failure, reported with its log
GRACE_S = 5.0  # SIGTERM -> SIGKILL
LINGER_S = 60.0  # status stays answerable this long after the kernel exited on its own
CLIENT_S = 5.0  # a comm client must send its request within this
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


class Fail(Exception):
    """A launch problem, reported as a GDL1-ERROR line; the message says what to fix."""


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def error_line(kernel_id, reason, tail=""):
    return "GDL1-ERROR " + compact({"protocol": PROTOCOL, "kernel_id": kernel_id, "reason": reason, "log_tail": tail})


def paths(state_dir, kernel_id):
    base = os.path.join(state_dir, "kernel-" + kernel_id)
    return {"conn": base + ".json", "log": base + ".log", "state": base + ".state.json"}


def quiet(fn, *args):
    """fn(*args), ignoring OSError (a file already removed, a group already gone)."""
    try:
        return fn(*args)
    except OSError:
        return None


def remove(*files):
    for f in files:
        quiet(os.unlink, f)


def exists(kill, target):
    """Whether kill(target, 0) finds a process (os.kill for a pid, os.killpg for a group)."""
    try:
        kill(target, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def write_private(path, text):
    """Write `text` to `path` readable by the owner only, atomically (the files hold the kernel's key)."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def listening(ip, port):
    """Whether something accepts connections on `port` (the kernel has bound it)."""
    try:
        with socket.create_connection(("127.0.0.1" if ip in ("", "0.0.0.0") else ip, port), timeout=0.05):
            return True
    except OSError:
        return False


def log_tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def group_alive(pgid):
    """Whether a process of group `pgid` still runs; on Linux zombies (done, awaiting their reaper) do not count."""
    if os.path.isdir("/proc/self"):
        for name in os.listdir("/proc"):
            try:
                with open("/proc/%s/stat" % name, "rb") as f:
                    stat = f.read()
            except OSError:
                continue  # not a process, or gone meanwhile
            fields = stat[stat.rfind(b")") + 2 :].split()  # state, ppid, pgrp, ...
            if len(fields) > 2 and fields[2] == str(pgid).encode() and fields[0] != b"Z":
                return True
        return False
    return exists(os.killpg, pgid)


def kill_group(pgid, is_gone, grace=GRACE_S):
    """SIGTERM the group, wait up to `grace` s for `is_gone()`, then SIGKILL whatever of the group is left."""
    quiet(os.killpg, pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and not is_gone():
        time.sleep(0.05)
    quiet(os.killpg, pgid, signal.SIGKILL)


def parse_range(text):
    m = re.match(r"^(\d+)\.\.(\d+)$", text or "")
    if not m:
        raise Fail("--port-range must look like LO..HI (e.g. 9000..9100), got %r" % text)
    lo, hi = int(m.group(1)), int(m.group(2))
    if not (1 <= lo <= hi <= 65535) or hi - lo + 1 < 6:
        raise Fail("--port-range %s must lie within 1..65535 and hold at least 6 ports" % text)
    return lo, hi


def bind_ports(ip, port_range):
    """Six sockets bound at once on `ip` (five kernel ports, then the comm port): all distinct by construction."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    socks = []

    def try_bind(port):
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.bind((ip, port))
        except OSError as e:
            s.close()
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return
            raise Fail("cannot bind ports on --ip %s (%s); pass an address of this host" % (ip, e))
        socks.append(s)

    lo, hi = port_range or (0, 0)
    start = random.randint(lo, hi)  # from a random point, so concurrent launches rarely race for the same ports
    candidates = [0] * 6 if port_range is None else list(range(start, hi + 1)) + list(range(lo, start))
    for port in candidates:
        if len(socks) < 6:
            try_bind(port)
    if len(socks) < 6:
        for s in socks:
            s.close()
        raise Fail("fewer than 6 free ports in --port-range %d..%d; widen the range" % port_range)
    return socks


def read_request(request_file=None):
    if request_file:
        try:
            with open(request_file, "rb") as f:
                line = f.readline(MAX_REQUEST + 1)
        except OSError as e:
            raise Fail("cannot read the request file %s: %s" % (request_file, e))
    else:
        line = sys.stdin.buffer.readline(MAX_REQUEST + 1)
    if not line.strip():
        raise Fail('no request on stdin: send one JSON line {"protocol":1,"key":"...","env":{...}}')
    try:
        req = json.loads(line.decode("utf-8"))
    except ValueError as e:
        raise Fail("the stdin line is not JSON (%s); send one JSON object on one line" % e)
    if not isinstance(req, dict):
        raise Fail("the stdin line must be a JSON object with protocol, key and env")
    if req.get("protocol") != PROTOCOL:
        raise Fail("protocol %r is not supported: this launcher %s speaks GDL/%d" % (req.get("protocol"), VERSION, PROTOCOL))
    key, env = req.get("key"), req.get("env", {})
    if not isinstance(key, str) or not key:
        raise Fail('"key" must be a non-empty string (the kernel\'s HMAC key)')
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise Fail('"env" must be an object of string values')
    return key, env


class Launcher:
    """The background part: owns the kernel process and serves the comm port until the kernel is gone."""

    def __init__(self, files, comm, lease, linger=LINGER_S):
        self.files, self.comm, self.lease, self.linger = files, comm, lease, linger
        self.proc = None
        self.last_request = time.monotonic()
        self.exited_at = None
        self.stop_reason = None
        self.clients = {}  # socket -> [bytes received, deadline]

    def alive(self):
        if self.proc is not None and self.exited_at is None and self.proc.poll() is not None:
            self.exited_at = time.monotonic()
            say("kernel exited with status %s" % self.proc.returncode)
        return self.proc is not None and self.exited_at is None

    def shutdown(self):
        if self.proc is not None:
            kill_group(self.proc.pid, lambda: not self.alive() and not group_alive(self.proc.pid))
            self.alive()
        remove(self.files["conn"])

    def handle(self, data):
        try:
            req = json.loads(data.decode("utf-8"))
        except ValueError as e:
            return {"ok": False, "error": "request is not JSON: %s" % e}
        if not isinstance(req, dict):
            return {"ok": False, "error": "request must be a JSON object"}
        if "shutdown" in req:
            self.stop_reason = "shutdown requested"
            self.shutdown()
            return {"ok": True}
        if "signum" in req:
            signum = req["signum"]
            if not isinstance(signum, int) or isinstance(signum, bool) or not 0 <= signum < 65:
                return {"ok": False, "error": "signum must be a signal number 0..64"}
            self.last_request = time.monotonic()
            if not self.alive():
                return {"ok": signum == 0, "alive": False, "error": "the kernel is not running"}
            quiet(os.killpg, self.proc.pid, signum)
            return {"ok": True, "alive": True}
        if "status" in req:
            self.last_request = time.monotonic()
            return {"ok": True, "alive": self.alive(), "pid": self.proc.pid if self.proc else None}
        if "lease" in req:
            n = req["lease"]
            if not isinstance(n, (int, float)) or isinstance(n, bool) or n < 0:
                return {"ok": False, "error": "lease must be a number of seconds >= 0 (0 = never expire)"}
            self.lease, self.last_request = float(n), time.monotonic()
            return {"ok": True}
        return {"ok": False, "error": "unknown request; expected signum, status, lease or shutdown"}

    def serve_client(self, sock):
        """Read what `sock` sent; answer once the request ends (newline or EOF)."""
        try:
            chunk = sock.recv(65536)
        except OSError:
            return self.drop(sock)
        buf = self.clients[sock][0] + chunk
        self.clients[sock][0] = buf
        if len(buf) > MAX_REQUEST:
            self.answer(sock, {"ok": False, "error": "request over %d bytes" % MAX_REQUEST})
        elif b"\n" in buf or not chunk:
            line = buf.split(b"\n", 1)[0]
            self.answer(sock, self.handle(line) if line.strip() else {"ok": False, "error": "empty request"})

    def answer(self, sock, reply):
        sock.settimeout(2.0)
        quiet(sock.sendall, (compact(reply) + "\n").encode("utf-8"))
        self.drop(sock)

    def drop(self, sock):
        self.clients.pop(sock, None)
        sock.close()

    def run(self):
        """Serve until shut down, the lease expires, or LINGER_S after the kernel exited on its own."""
        self.comm.listen(16)
        self.comm.setblocking(False)
        while self.stop_reason is None:
            now = time.monotonic()
            if self.lease > 0 and now - self.last_request > self.lease and self.alive():
                self.stop_reason = "lease of %gs expired" % self.lease
                self.shutdown()
                break
            if not self.alive() and self.exited_at is not None and now - self.exited_at >= self.linger:
                self.stop_reason = "kernel exited"
                break
            for sock, (_, deadline) in list(self.clients.items()):
                if now > deadline:
                    self.answer(sock, {"ok": False, "error": "no complete request within %gs" % CLIENT_S})
            try:
                ready, _, _ = select.select([self.comm] + list(self.clients), [], [], 0.2)
            except InterruptedError:
                continue
            for sock in ready:
                if sock is self.comm:
                    try:
                        client, _ = self.comm.accept()
                    except OSError:
                        continue
                    self.clients[client] = [b"", now + CLIENT_S]
                else:
                    self.serve_client(sock)
        if self.alive():  # SIGTERM to the launcher
            self.shutdown()
        say("launcher exits: %s" % self.stop_reason)
        remove(self.files["conn"], self.files["state"])
        self.comm.close()


def say(msg):
    sys.stderr.write("[gd_launcher %s] %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), msg))
    sys.stderr.flush()


class Report:
    """The pipe to the foreground launcher, which prints the one line it gets: written once, then closed."""

    def __init__(self, fd):
        self.fd = fd

    def send(self, line):
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)


class StdoutReport:
    """`run`: the line goes straight to this process's stdout (a container's log or attached stream), once."""

    def __init__(self):
        self.sent = False

    def send(self, line):
        if not self.sent:
            self.sent = True
            sys.stdout.write(line + "\n")
            sys.stdout.flush()


def tee_to_stderr(log_fd):
    """`run`: the kernel's output goes to its log file and to our stderr, the container's log, which outlives a
    task's filesystem (a Swarm task's tmpfs); returns the fd the kernel writes to and the pumping thread."""
    r, w = os.pipe()

    def pump():
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                return
            os.write(log_fd, chunk)
            quiet(os.write, 2, chunk)

    pumping = threading.Thread(target=pump, daemon=True)
    pumping.start()
    return w, pumping


def background(args, key, env, socks, files, report, detached=True):
    """Starts the kernel, reports through `report`, then serves the comm port (detached, or as `run`)."""
    kernel_socks, comm = socks[:5], socks[5]
    log_fd = os.open(files["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDWR)
    # Nothing of the SSH session's channel may stay open here, or sshd would wait for us before closing it.
    # `run` keeps its stdout: the report goes there.
    for fd, to in ((0, null), (1, null), (2, log_fd)) if detached else ((0, null),):
        os.dup2(to, fd)
    kernel_out, pumping = (log_fd, None) if detached else tee_to_stderr(log_fd)
    launcher = Launcher(files, comm, args["lease"], LINGER_S if detached else 0.0)
    signal.signal(signal.SIGTERM, lambda *_: setattr(launcher, "stop_reason", "launcher got SIGTERM"))
    ports = {name: s.getsockname()[1] for name, s in zip(PORT_NAMES, kernel_socks)}
    argv = [a.replace("{connection_file}", files["conn"]) for a in args["argv"]]
    for s in kernel_socks:
        s.close()  # only now: the kernel binds them next
    try:
        env = dict(os.environ, **env)
        launcher.proc = subprocess.Popen(argv, stdin=null, stdout=kernel_out, stderr=kernel_out, env=env, start_new_session=True)
    except OSError as e:
        remove(files["conn"])
        return report.send(error_line(args["kernel_id"], "cannot start kernel %r: %s" % (argv[0], e)))
    finally:
        if pumping is not None:
            os.close(kernel_out)  # the kernel holds its own copy: the pump ends when the kernel's output does
    try:
        say("kernel pid %d started: %s" % (launcher.proc.pid, argv))
        # Report once the kernel listens (it got past its imports), or after STARTUP_S: a kernel that dies
        # sooner is a launch failure reported with its log; later deaths are the app's poll to notice.
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline and launcher.alive() and not listening(args["ip"], ports["hb_port"]):
            time.sleep(0.05)
        if not launcher.alive():
            launcher.shutdown()
            if pumping is not None:
                pumping.join(2.0)  # its last words reach the log file before the tail is read
            why = "kernel exited with status %s within %gs of starting; see log_tail" % (launcher.proc.returncode, STARTUP_S)
            return report.send(error_line(args["kernel_id"], why, log_tail(files["log"])))
        pid = launcher.proc.pid
        info = dict(ports, protocol=PROTOCOL, kernel_id=args["kernel_id"], ip=args["ip"], pid=pid, pgid=os.getpgid(pid),
                    comm_port=comm.getsockname()[1], log=files["log"], launcher_version=VERSION)
        state = dict(info, launcher_pid=os.getpid(), connection_file=files["conn"], started=time.time())
        write_private(files["state"], compact(state))
        text = compact(info)
        mac = hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
        report.send("GDL1 %s %s" % (text, mac))
        launcher.run()
        return launcher.proc.returncode
    finally:
        if launcher.alive():  # the launcher failed: nothing would watch or lease the kernel any more
            launcher.shutdown()


def run_foreground(args):
    """`run`: as launch, but this process is the launcher (a container's main process); exits with the kernel."""
    if args["argv"] == []:
        raise Fail("no kernel command: put it after --, e.g. -- python -m ipykernel_launcher -f {connection_file}")
    key, env = read_request(args["request_file"])
    port_range = parse_range(args["port_range"]) if args["port_range"] else None
    files = paths(args["state_dir"], args["kernel_id"])
    socks = bind_ports(args["ip"], port_range)
    conn = {name: s.getsockname()[1] for name, s in zip(PORT_NAMES, socks)}
    conn.update(transport="tcp", ip=args["ip"], key=key, signature_scheme="hmac-sha256")
    write_private(files["conn"], json.dumps(conn, indent=1))
    report = StdoutReport()
    code = background(args, key, env, socks, files, report, detached=False)
    if not report.sent:
        report.send(error_line(args["kernel_id"], "the launcher stopped before reporting", log_tail(files["log"])))
    return code if isinstance(code, int) and code >= 0 else 1


def launch(args):
    if args["argv"] == []:
        raise Fail("no kernel command: put it after --, e.g. -- python -m ipykernel_launcher -f {connection_file}")
    key, env = read_request()
    port_range = parse_range(args["port_range"]) if args["port_range"] else None
    files = paths(args["state_dir"], args["kernel_id"])
    old = read_state(files["state"])
    pid = old.get("launcher_pid") if old else None
    if isinstance(pid, int) and pid > 0 and exists(os.kill, pid):
        raise Fail("kernel id %s already has a launcher (pid %s); stop it first or use a new id" % (args["kernel_id"], pid))
    socks = bind_ports(args["ip"], port_range)
    conn = {name: s.getsockname()[1] for name, s in zip(PORT_NAMES, socks)}
    conn.update(transport="tcp", ip=args["ip"], key=key, signature_scheme="hmac-sha256")
    write_private(files["conn"], json.dumps(conn, indent=1))
    r, w = os.pipe()
    if os.fork() == 0:  # child: a new session, then a grandchild that is no session leader (no tty, ever)
        os.close(r)
        os.setsid()
        if os.fork() == 0:
            report = Report(w)
            try:
                background(args, key, env, socks, files, report)
            except BaseException as e:  # the foreground must hear of it, if it has not had its line yet
                say("launcher failed: %r" % (e,))
                report.send(error_line(args["kernel_id"], "launcher failed: %r" % (e,)))
            os._exit(0)
        os._exit(0)
    os.close(w)
    for s in socks:
        s.close()  # the background launcher holds them; ours must not keep the kernel from binding
    os.wait()
    with os.fdopen(r, "rb") as pipe:
        line = pipe.read().decode("utf-8", "replace").strip()
    why = "the background launcher died before reporting; see " + files["log"]
    line = line or error_line(args["kernel_id"], why, log_tail(files["log"]))
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except OSError:
        # Nobody reads the report (the app cancelled the launch or gave up waiting, and its SSH channel is
        # closed): no one would ever reach or stop this kernel, so it must not stay behind.
        sys.stdout = open(os.devnull, "w")
        state = read_state(files["state"])
        if line.startswith("GDL1 ") and state is not None:
            comm_call(state, {"shutdown": 1}, timeout=GRACE_S + 5)
        return 1
    return 0 if line.startswith("GDL1 ") else 1


def read_state(path):
    try:
        with open(path) as f:
            state = json.load(f)
        return state if isinstance(state, dict) else None
    except (OSError, ValueError):
        return None


def comm_call(state, request, timeout=10.0):
    """The background launcher's reply to `request`, or None when it does not answer."""
    try:
        with socket.create_connection((state["ip"], int(state["comm_port"])), timeout=timeout) as s:
            s.sendall((compact(request) + "\n").encode("utf-8"))
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data.decode("utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def status(args):
    files = paths(args["state_dir"], args["kernel_id"])
    state = read_state(files["state"])
    if state is None:
        return {"ok": True, "alive": False, "known": False, "log": files["log"]}
    reply = comm_call(state, {"status": 1})
    alive = reply.get("alive") is True if isinstance(reply, dict) else group_alive(int(state.get("pgid", 0)) or -1)
    keys = ("pid", "pgid", "launcher_pid", "comm_port", "ip", "log") + PORT_NAMES
    out = {k: state.get(k) for k in keys}
    out.update(ok=True, alive=alive, known=True, launcher_alive=reply is not None)
    return out


def stop(args):
    files = paths(args["state_dir"], args["kernel_id"])
    state = read_state(files["state"])
    was_running = False
    if state is not None:
        reply = comm_call(state, {"status": 1})
        if isinstance(reply, dict):
            was_running = reply.get("alive") is True
            comm_call(state, {"shutdown": 1}, timeout=GRACE_S + 5)
        pgid = int(state.get("pgid") or 0)
        if pgid > 1 and group_alive(pgid):  # no launcher answered (or it failed): kill the group ourselves
            was_running = True
            kill_group(pgid, lambda: not group_alive(pgid))
    remove(files["conn"], files["state"])
    return {"ok": True, "was_running": was_running}


def parse_args(argv):
    """A small parser (argparse would print usage to stderr and exit 2, but errors must be GDL1-ERROR lines)."""
    if not argv:
        raise Fail("usage: gd_launcher.py launch|stop|status|version ...")
    args = {"cmd": argv[0], "kernel_id": None, "ip": "127.0.0.1", "port_range": None, "lease": 0.0, "argv": [],
            "request_file": None,
            "state_dir": os.path.join(os.path.expanduser("~"), ".cache", "gateway-desktop", "kernels")}
    opts = {"--kernel-id": "kernel_id", "--ip": "ip", "--port-range": "port_range", "--state-dir": "state_dir",
            "--lease-seconds": "lease", "--request-file": "request_file"}
    rest = argv[1:]
    while rest:
        opt = rest.pop(0)
        if opt == "--":
            args["argv"] = rest
            break
        if opt not in opts or not rest:
            raise Fail("unknown option or missing value: %r (options: %s, then -- KERNEL_ARGV)" % (opt, ", ".join(opts)))
        args[opts[opt]] = rest.pop(0)
    if args["cmd"] != "version" and not ID_RE.match(args["kernel_id"] or ""):
        raise Fail("--kernel-id must be 1-128 characters of A-Z a-z 0-9 . _ - (got %r)" % args["kernel_id"])
    try:
        args["lease"] = float(args["lease"])
        assert args["lease"] >= 0
    except (ValueError, AssertionError):
        raise Fail("--lease-seconds must be a number >= 0, got %r" % args["lease"])
    return args


def main(argv):
    kernel_id = None
    try:
        args = parse_args(argv)
        kernel_id = args["kernel_id"]
        if args["cmd"] == "version":
            print(VERSION)
            return 0
        if args["cmd"] not in ("launch", "run", "stop", "status"):
            raise Fail("unknown command %r: use launch, run, stop, status or version" % args["cmd"])
        os.makedirs(args["state_dir"], mode=0o700, exist_ok=True)
        if args["cmd"] == "launch":
            return launch(args)
        if args["cmd"] == "run":
            return run_foreground(args)
        print(compact((stop if args["cmd"] == "stop" else status)(args)), flush=True)
        return 0
    except Fail as e:
        if argv[:1] in (["launch"], ["run"]):
            print(error_line(kernel_id, str(e)), flush=True)
        else:
            print(compact({"ok": False, "error": str(e)}), flush=True)
        return 1
    except OSError as e:
        print(error_line(kernel_id, "launcher failed: %s" % e), flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
