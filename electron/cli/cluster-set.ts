// `npm run cluster -- set NAME --username U`: change a gateway cluster's username after it was added (a
// running app picks the change up through the store's file watch, like every other change).
import type { ClusterStore } from '../clusters/store';
import { StoreError } from '../clusters/store';
import { gatewayKind } from '../clusters/kinds/gateway';

/** Set (or, with '', clear) the cluster's KERNEL_USERNAME; returns the line to print. */
export function setKernelUsername(store: ClusterStore, name: string, username: string): string {
  const c = store.require(name);
  if (!gatewayKind.is(c))
    throw new StoreError(`"${c.name}" runs kernels on this computer; it has no username`);
  const user = username.trim();
  if (/\s/.test(user)) throw new StoreError(`--username "${username}": a user name has no spaces`);
  const next = { ...c };
  if (user) next.kernelUsername = user;
  else delete next.kernelUsername;
  store.update(next);
  return user
    ? `"${c.name}" now starts kernels as "${user}" (KERNEL_USERNAME) and lists the kernelspecs "${user}" may use.`
    : `"${c.name}" has no username now: kernels start as the user the Jupyter client sends, else ${c.basicAuth?.user ? `"${c.basicAuth.user}" (the HTTP user)` : 'your user name on this computer'}.`;
}
