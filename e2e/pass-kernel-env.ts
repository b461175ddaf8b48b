// A Jupyter Server config for the e2e suites' gateway upstream. Jupyter Server 1.23 drops a POST's env
// (Enterprise and Kernel Gateway pass KERNEL_* on); with this file it behaves as the gateways do, so what
// arrives in a kernel is what the app sent.

// POST /api/kernels as Enterprise Gateway does it: the body's KERNEL_* variables join the kernel's env.
export const PASS_KERNEL_ENV = `
import json, os
from tornado import web
from jupyter_server.auth import authorized
from jupyter_server.utils import ensure_async, url_escape, url_path_join
from jupyter_server.services.kernels import handlers as h

@web.authenticated
@authorized
async def post(self):
    km = self.kernel_manager
    model = self.get_json_body() or {}
    model.setdefault("name", km.default_kernel_name)
    extra = {k: str(v) for k, v in (model.get("env") or {}).items() if k.startswith("KERNEL_")}
    self.log.info("kernel env from the client: %s", sorted(extra))
    kernel_id = await ensure_async(
        km.start_kernel(kernel_name=model["name"], path=model.get("path"), env={**os.environ, **extra})
    )
    model = await ensure_async(km.kernel_model(kernel_id))
    self.set_header("Location", url_path_join(self.base_url, "api", "kernels", url_escape(kernel_id)))
    self.set_status(201)
    self.finish(json.dumps(model, default=h.json_default))

h.MainKernelHandler.post = post
`;
