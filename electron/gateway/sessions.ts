// Minimal /api/sessions for clients that talk to the gateway directly (case B: @jupyterlab/services).
// jupyter_server semantics: one session per path; creating one starts (or adopts) a kernel; deleting one shuts
// its kernel down. Sessions live in memory; a session whose kernel is gone disappears from the list.
import { randomUUID } from 'node:crypto';
import type { KernelModel, KernelRegistry } from '../kernels/registry';
import { BadRequestError, GatewayError, KernelSpecNotFoundError } from '../kernels/errors';
import { isObject } from './http-util';

/** A session model as @jupyterlab/services validates it. */
export interface SessionModel {
  id: string;
  path: string;
  name: string;
  type: string;
  kernel: KernelModel | null;
  notebook?: { path: string; name: string };
}

interface SessionRecord {
  id: string;
  path: string;
  name: string;
  type: string;
  kernelId: string;
}

/** In-memory session table over the kernel registry. */
export class SessionTable {
  private readonly sessions = new Map<string, SessionRecord>();

  constructor(
    private readonly registry: KernelRegistry,
    private readonly defaultSpec: () => Promise<string | null>,
  ) {}

  list(): SessionModel[] {
    this.prune();
    return [...this.sessions.values()].map((s) => this.model(s));
  }

  get(id: string): SessionModel | null {
    this.prune();
    const s = this.sessions.get(id);
    return s ? this.model(s) : null;
  }

  /** POST /api/sessions: returns the existing session for the path, or a new one with a new/adopted kernel. */
  async create(body: unknown): Promise<SessionModel> {
    if (!isObject(body)) throw new BadRequestError('Request body must be a JSON object');
    const path = body.path;
    const type = body.type ?? 'notebook';
    if (typeof path !== 'string') throw new BadRequestError('Session "path" is missing or not a string');
    if (typeof type !== 'string') throw new BadRequestError('Session "type" must be a string');
    const name = typeof body.name === 'string' ? body.name : '';
    this.prune();
    for (const s of this.sessions.values()) if (s.path === path) return this.model(s);
    const kernelId = await this.kernelFor(body.kernel);
    const rec: SessionRecord = { id: randomUUID(), path, name, type, kernelId };
    this.sessions.set(rec.id, rec);
    return this.model(rec);
  }

  /** PATCH /api/sessions/{id}: rename, retype, or change the kernel (by name: new kernel; by id: adopt). */
  async update(id: string, body: unknown): Promise<SessionModel | null> {
    this.prune();
    const rec = this.sessions.get(id);
    if (!rec) return null;
    if (!isObject(body)) throw new BadRequestError('Request body must be a JSON object');
    if (typeof body.path === 'string') rec.path = body.path;
    if (typeof body.name === 'string') rec.name = body.name;
    if (typeof body.type === 'string') rec.type = body.type;
    if (isObject(body.kernel)) {
      const old = rec.kernelId;
      const next = await this.kernelFor(body.kernel);
      rec.kernelId = next;
      if (old !== next && this.registry.has(old) && !this.usedElsewhere(old, rec.id)) {
        await this.registry.shutdown(old).catch(() => undefined);
      }
    }
    return this.model(rec);
  }

  /** DELETE /api/sessions/{id}: shuts the kernel down too. False when unknown. */
  async delete(id: string): Promise<boolean> {
    const rec = this.sessions.get(id);
    if (!rec) return false;
    this.sessions.delete(id);
    if (this.registry.has(rec.kernelId) && !this.usedElsewhere(rec.kernelId, id)) {
      await this.registry.shutdown(rec.kernelId).catch(() => undefined);
    }
    return true;
  }

  private usedElsewhere(kernelId: string, sessionId: string): boolean {
    for (const s of this.sessions.values()) if (s.id !== sessionId && s.kernelId === kernelId) return true;
    return false;
  }

  private async kernelFor(kernel: unknown): Promise<string> {
    const k = isObject(kernel) ? kernel : {};
    if (typeof k.id === 'string' && k.id) {
      if (!this.registry.has(k.id))
        throw new GatewayError(404, 'Not Found', `Kernel does not exist: ${k.id}`);
      return k.id;
    }
    const name = typeof k.name === 'string' && k.name ? k.name : await this.defaultSpec();
    if (!name) throw new GatewayError(501, 'Not Implemented', 'No kernelspec is available');
    try {
      return (await this.registry.start(name)).id;
    } catch (err) {
      if (err instanceof KernelSpecNotFoundError) {
        throw new GatewayError(
          501,
          'Not Implemented',
          `The '${name}' kernel is not available. ${err.message}`,
        );
      }
      throw err;
    }
  }

  private prune(): void {
    for (const [id, s] of this.sessions) if (!this.registry.has(s.kernelId)) this.sessions.delete(id);
  }

  private model(s: SessionRecord): SessionModel {
    return {
      id: s.id,
      path: s.path,
      name: s.name,
      type: s.type,
      kernel: this.registry.model(s.kernelId) ?? null,
      notebook: { path: s.path, name: s.name },
    };
  }
}
