# A test-only launcher written the way Gateway Provisioners' launch_ipykernel.py works (reference §2): it takes
# --kernel-id/--port-range/--response-address/--public-key, holds six ports at once, writes a connection file,
# sends the payload version 1 (AES-128-ECB, the AES key wrapped with RSA PKCS#1 v1.5, pycryptodome) from a forked
# listener that then serves the comm port ({"signum": n}, {"shutdown": 1}), and runs ipykernel in its own process.
# Used by the SSH distributed-provisioner suite and, behind gp-bootstrap-kernel.sh, by the Docker GP-image suite.
import argparse, atexit, base64, importlib, json, os, socket, sys, tempfile, uuid
from Cryptodome.Cipher import AES, PKCS1_v1_5
from Cryptodome.PublicKey import RSA
from Cryptodome.Random import get_random_bytes
from Cryptodome.Util.Padding import pad

p = argparse.ArgumentParser()
p.add_argument("--kernel-id", required=True)
p.add_argument("--port-range", default="0..0")
p.add_argument("--response-address", required=True)
p.add_argument("--public-key", required=True)
p.add_argument("--kernel-class-name", default="ipykernel.ipkernel.IPythonKernel")
a = p.parse_args()
print("response address " + a.response_address, file=sys.stderr, flush=True)

# shell, iopub, stdin, hb, control, comm: bound together so they differ; the comm socket stays open.
socks = []
for _ in range(6):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 0))
    socks.append(s)
names = ["shell_port", "iopub_port", "stdin_port", "hb_port", "control_port"]
info = {n: s.getsockname()[1] for n, s in zip(names, socks)}
comm = socks[5]
for s in socks[:5]:
    s.close()
info.update(ip="0.0.0.0", key=str(uuid.uuid4()), transport="tcp", signature_scheme="hmac-sha256", kernel_name="")
fd, conn_file = tempfile.mkstemp(prefix="kernel-%s_" % a.kernel_id, suffix=".json")
with os.fdopen(fd, "w") as f:
    json.dump(info, f)
kernel_pid = os.getpid()
payload = dict(info, pid=kernel_pid, pgid=os.getpgid(0), comm_port=comm.getsockname()[1], kernel_id=a.kernel_id)

if os.fork() == 0:
    # The listener: report once the comm socket listens, then serve it until shutdown or the kernel is gone.
    comm.listen(1)
    aes_key = get_random_bytes(16)
    conn_info = base64.b64encode(AES.new(aes_key, AES.MODE_ECB).encrypt(pad(json.dumps(payload).encode("utf-8"), 16)))
    wrapped = base64.b64encode(PKCS1_v1_5.new(RSA.importKey(base64.b64decode(a.public_key.encode()))).encrypt(aes_key))
    envelope = json.dumps({"version": 1, "key": wrapped.decode("ascii"), "conn_info": conn_info.decode("ascii")},
                          separators=(", ", ": "))
    host, port = a.response_address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as s:
        s.sendall(base64.b64encode(envelope.encode("utf-8")))
    comm.settimeout(1.0)
    while True:
        try:
            c, _ = comm.accept()
        except socket.timeout:
            if os.getppid() != kernel_pid:
                os._exit(0)
            continue
        data = b""
        with c:
            while True:
                chunk = c.recv(1024)
                if not chunk:
                    break
                data += chunk
        req = json.loads(data.decode("utf-8") or "{}")
        print("comm request %s" % json.dumps(req), file=sys.stderr, flush=True)
        if req.get("shutdown"):
            os._exit(0)
        if "signum" in req:
            try:
                os.kill(kernel_pid, int(req["signum"]))
            except OSError:
                os._exit(0)

comm.close()
atexit.register(lambda: os.path.exists(conn_file) and os.remove(conn_file))
module, _, name = a.kernel_class_name.rpartition(".")
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance(kernel_class=getattr(importlib.import_module(module), name))
app.initialize(["-f", conn_file])
app.start()
