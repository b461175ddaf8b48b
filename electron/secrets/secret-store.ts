// Secret store: tokens, passwords and key passphrases, kept out of clusters.json.
//
// Two places a secret can live:
//  - 'keychain': encrypted with Electron's safeStorage (the OS keychain / DPAPI / libsecret key). The
//    encrypted blobs sit in <dataDir>/secrets.keychain.json; only this user's OS session can decrypt them.
//  - 'file': plain text in <dataDir>/secrets.json with mode 0600 (owner read/write only). Used where no
//    keychain exists (`serve` on a headless box, the CLI, tests).
// safeStorage is injected as a small interface so plain Node code never imports 'electron'.
// Reads look in the keychain first, then the file, so a secret the CLI stored in the file is still found
// by the app; writes go to the keychain when it is available.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The part of Electron's safeStorage we use. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export type SecretLocation = 'keychain' | 'file';

export const SECRET_LOCATION_TEXT: Record<SecretLocation, string> = {
  keychain: 'stored in the OS keychain',
  file: 'stored in a file only you can read',
};

export interface SecretStore {
  /** Where new secrets go. */
  readonly defaultLocation: SecretLocation;
  /** Files used, for messages ("stored in a file only you can read: /path"). */
  readonly files: { keychain: string; file: string };
  get(key: string): string | undefined;
  /** Store a secret; returns where it went. */
  set(key: string, value: string): SecretLocation;
  delete(key: string): void;
  /** Delete every secret whose key starts with prefix (e.g. `cluster/<id>/`). */
  deletePrefix(prefix: string): void;
  location(key: string): SecretLocation | undefined;
}

/** Read-only view used by runtimes and diagnosis. */
export type SecretLookup = Pick<SecretStore, 'get'>;

export class SecretStoreError extends Error {
  override name = 'SecretStoreError';
}

type SecretMap = Record<string, string>;

function atomicWrite(file: string, data: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

function readMap(file: string): SecretMap {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SecretStoreError(`${file} is not valid JSON (${(e as Error).message}); fix or delete it`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SecretStoreError(`${file} must hold a JSON object of secrets; fix or delete it`);
  }
  const out: SecretMap = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  return out;
}

export interface SecretStoreOptions {
  dataDir: string;
  /** Electron's safeStorage, when running inside Electron. */
  safeStorage?: SafeStorageLike | null;
}

export function createSecretStore(opts: SecretStoreOptions): SecretStore {
  const files = {
    keychain: join(opts.dataDir, 'secrets.keychain.json'),
    file: join(opts.dataDir, 'secrets.json'),
  };
  const ss = opts.safeStorage ?? null;
  const keychainUsable = (): boolean => {
    try {
      return !!ss && ss.isEncryptionAvailable();
    } catch {
      return false;
    }
  };

  const readFileStore = (): SecretMap => {
    if (existsSync(files.file)) {
      // Keep it owner-only even if someone widened it.
      const mode = statSync(files.file).mode & 0o777;
      if (mode & 0o077 && process.platform !== 'win32') chmodSync(files.file, 0o600);
    }
    return readMap(files.file);
  };
  const readKeychain = (): SecretMap => readMap(files.keychain);

  return {
    get defaultLocation(): SecretLocation {
      return keychainUsable() ? 'keychain' : 'file';
    },
    files,
    get(key) {
      if (keychainUsable() && ss) {
        const enc = readKeychain()[key];
        if (enc !== undefined) {
          try {
            return ss.decryptString(Buffer.from(enc, 'base64'));
          } catch (e) {
            throw new SecretStoreError(
              `could not decrypt the secret "${key}" from the OS keychain (${(e as Error).message}); enter it again`,
            );
          }
        }
      }
      return readFileStore()[key];
    },
    set(key, value) {
      if (keychainUsable() && ss) {
        const m = readKeychain();
        m[key] = ss.encryptString(value).toString('base64');
        atomicWrite(files.keychain, JSON.stringify(m, null, 2) + '\n', 0o600);
        // Drop a stale plain copy, if any.
        const f = readFileStore();
        if (key in f) {
          delete f[key];
          atomicWrite(files.file, JSON.stringify(f, null, 2) + '\n', 0o600);
        }
        return 'keychain';
      }
      const f = readFileStore();
      f[key] = value;
      atomicWrite(files.file, JSON.stringify(f, null, 2) + '\n', 0o600);
      return 'file';
    },
    delete(key) {
      removeKeys((k) => k === key);
    },
    deletePrefix(prefix) {
      removeKeys((k) => k.startsWith(prefix));
    },
    location(key) {
      if (existsSync(files.keychain) && key in readKeychain()) return 'keychain';
      if (key in readFileStore()) return 'file';
      return undefined;
    },
  };

  function removeKeys(match: (key: string) => boolean): void {
    for (const file of [files.keychain, files.file]) {
      if (!existsSync(file)) continue;
      const m = readMap(file);
      const doomed = Object.keys(m).filter(match);
      if (!doomed.length) continue;
      for (const k of doomed) delete m[k];
      if (Object.keys(m).length === 0) unlinkSync(file);
      else atomicWrite(file, JSON.stringify(m, null, 2) + '\n', 0o600);
    }
  }
}
