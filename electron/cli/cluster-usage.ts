// The text of `npm run cluster -- --help`.
import { KNOWN_LAUNCH_PARAMS } from '../clusters/config';
import { defaultDataDir } from './data-dir';

export const CLUSTER_USAGE = `Usage: npm run cluster -- <command> [options]

Manage the places your notebook kernels run. Changes apply to a running Gateway Desktop at once.

Commands:
  add gateway NAME --url URL [options]   add a remote Enterprise/Kernel Gateway
  add local NAME [--kernelspec-dir D]... add another "this computer" cluster with its own kernelspec dirs
  list [--json]                          list clusters (* = active: new kernels start there)
  use NAME                               make NAME the active cluster (running kernels stay where they are)
  test NAME [--json]                     test the connection to a gateway cluster and explain any problem
  set NAME --username U                  change a gateway cluster's username (KERNEL_USERNAME); "" clears it
  remove NAME                            remove a cluster and its stored secrets
  import [NAME]                          add the gateway you set up for Jupyter (JUPYTER_GATEWAY_* variables,
                                         c.GatewayClient.* in jupyter_server_config.py/.json); default name "Gateway"

Options for "add gateway" (and --use for "import"):
  --url URL              gateway base URL, e.g. https://gateway.example.edu:8888 (with its base path, if any)
  --token-env VAR        read the gateway token from environment variable VAR and store it as a secret
                         (the token never goes on the command line or into clusters.json)
  --auth-header NAME     header that carries the token (default: Authorization)
  --auth-scheme S        scheme before the token (default: token; e.g. Bearer)
  --http-user U          HTTP basic auth user; the password comes from --password-env VAR
  --password-env VAR     read the HTTP basic auth password from environment variable VAR
  --username U           your user name on the gateway, sent as KERNEL_USERNAME with every start and as
                         ?user= when listing kernelspecs (default: the one the Jupyter client sends, else
                         the --http-user, else your user name on this computer)
  --header "K: V"        extra header sent with every request (repeatable)
  --ca-file F            PEM file of certificate authorities to trust (your university's CA, a self-signed server)
  --client-cert F        client certificate (PEM) for mutual TLS, with --client-key F
  --client-key F         client private key (PEM); its passphrase from --key-passphrase-env VAR
  --key-passphrase-env VAR
  --insecure             do not verify the server's certificate (only for a test server you control)
  --launch KERNEL_X=V    launch parameter sent with every start (repeatable), e.g. KERNEL_MEMORY=4G
  --forward-env NAME     also forward this client environment variable on start (repeatable)
  --connect-timeout S    seconds to establish a connection (default 20)
  --request-timeout S    seconds for a request (default 42; kept >= launch timeout + 2)
  --launch-timeout S     seconds the gateway may take to start a kernel (default 40)
  --use                  make the new cluster active

Common options:
  --data-dir D           data directory (default: ${defaultDataDir()})
  -h, --help             show this help

Known launch parameters: ${KNOWN_LAUNCH_PARAMS.map((p) => p.name).join(', ')}.

Exit status: 0 on success (for "test": the connection works), 1 on an error, 2 on bad usage.
`;
