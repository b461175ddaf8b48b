// Our launcher on an SSH host: uploaded once per version (its file name carries the source's digest, so hosts
// never run a stale copy and several app versions can share a host), checked once per connection.
import { launcherDigest, launcherSource, shellQuote } from '../../../provisioners/remote/launcher-protocol';
import type { SshConnection } from '../../../provisioners/ssh/ssh-connection';

/** Where the launcher lives on a host, relative to the login's home directory. */
export function remoteLauncherPath(): string {
  return `.cache/gateway-desktop/gd_launcher-${launcherDigest()}.py`;
}

const checked = new WeakMap<SshConnection, Promise<string>>();

/** The launcher's path on the host of `conn`, uploading it when it is not there yet. */
export function ensureLauncher(conn: SshConnection, signal?: AbortSignal): Promise<string> {
  let done = checked.get(conn);
  if (!done) {
    done = upload(conn, signal);
    checked.set(conn, done);
    done.catch(() => checked.delete(conn));
  }
  return done;
}

async function upload(conn: SshConnection, signal?: AbortSignal): Promise<string> {
  const file = remoteLauncherPath();
  const probe = await conn.exec(`test -f ${shellQuote([file])} && echo present`, {
    timeoutMs: 15_000,
    ...(signal ? { signal } : {}),
  });
  if (probe.stdout.trim() !== 'present') await conn.writeFile(file, launcherSource(), 0o600);
  return file;
}
