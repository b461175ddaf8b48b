// Finding JupyterLab installations: jupyter-lab on PATH, conda/mamba environments, virtualenvs (venv,
// virtualenvwrapper, pipenv, poetry's in-project .venv), pipx, JupyterLab Desktop's bundled server, and a
// command the user sets. When none is found, INSTALL_HINT says exactly how to install one.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export type LabInstallKind = 'user' | 'path' | 'conda' | 'venv' | 'pipx' | 'jlab-desktop';

export interface LabInstall {
  kind: LabInstallKind;
  /** For people: "conda env 'ml' (~/miniconda3/envs/ml)". */
  label: string;
  /** argv prefix; the launcher appends its own arguments. */
  command: string[];
  /** The executable found (or the user's command's first word). */
  executable: string;
}

export interface DiscoverOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  cwd?: string;
  /** A command the user set (e.g. "jupyter notebook" or "/opt/lab/bin/jupyter-lab"); listed first. */
  userCommand?: string;
  platform?: NodeJS.Platform;
}

export const INSTALL_HINT = `No JupyterLab was found on this computer. Install it with one of:
  pipx install jupyterlab                    (recommended: its own environment, found automatically)
  python3 -m pip install --user jupyterlab   (then make sure ~/.local/bin is on your PATH)
  conda install -c conda-forge jupyterlab    (inside a conda environment)
On Debian/Ubuntu, get pipx first with: sudo apt install pipx
Or tell Gateway Desktop which command to run, e.g.
  npm run lab -- --command "/path/to/venv/bin/jupyter-lab"
  npm run lab -- --command "jupyter notebook"   (or "jupyter nbclassic", "python3 -m jupyter_server")`;

/** Split a command line like a POSIX shell would for simple cases: spaces, '…' and "…" quotes, \\ escapes. */
export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < cmd.length) cur += cmd[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (quote) throw new Error(`unbalanced ${quote} quote in the command: ${cmd}`);
  if (has) out.push(cur);
  return out;
}

function isExecutable(p: string): boolean {
  try {
    const st = statSync(p);
    return st.isFile() && (process.platform === 'win32' || (st.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() || d.isSymbolicLink())
      .map((d) => path.join(dir, d.name));
  } catch {
    return [];
  }
}

/** Resolve a program name on PATH (or return it when it is a path). */
export function which(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (program.includes('/') || program.includes('\\'))
    return isExecutable(program) ? path.resolve(program) : null;
  const exts = process.platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = path.join(dir, program + ext);
      if (isExecutable(p)) return p;
    }
  }
  return null;
}

export function findLabInstalls(opts: DiscoverOptions = {}): LabInstall[] {
  const env = opts.env ?? process.env;
  const home = opts.home ?? env.HOME ?? homedir();
  const cwd = opts.cwd ?? process.cwd();
  const win = (opts.platform ?? process.platform) === 'win32';
  const bin = win ? 'Scripts' : 'bin';
  const exe = win ? 'jupyter-lab.exe' : 'jupyter-lab';
  const found: LabInstall[] = [];
  const seen = new Set<string>();
  const tilde = (p: string): string => (p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p);

  const add = (kind: LabInstallKind, label: string, executable: string, command?: string[]): void => {
    let key = executable;
    try {
      key = realpathSync(executable);
    } catch {
      // keep
    }
    if (seen.has(key)) return;
    seen.add(key);
    found.push({ kind, label, executable, command: command ?? [executable] });
  };
  const tryEnv = (kind: LabInstallKind, label: string, prefix: string): void => {
    const p = path.join(prefix, bin, exe);
    if (isExecutable(p)) add(kind, `${label} (${tilde(prefix)})`, p);
  };

  if (opts.userCommand && opts.userCommand.trim()) {
    const argv = splitCommand(opts.userCommand.trim());
    const resolved = which(argv[0], env);
    found.push({
      kind: 'user',
      label: `your command: ${opts.userCommand.trim()}`,
      executable: resolved ?? argv[0],
      command: argv,
    });
    if (resolved) seen.add(resolved);
  }

  const onPath = which('jupyter-lab', env);
  if (onPath) add('path', `jupyter-lab on PATH (${tilde(onPath)})`, onPath);

  // Active environments first.
  if (env.CONDA_PREFIX)
    tryEnv('conda', `active conda env '${path.basename(env.CONDA_PREFIX)}'`, env.CONDA_PREFIX);
  if (env.VIRTUAL_ENV)
    tryEnv('venv', `active virtualenv '${path.basename(env.VIRTUAL_ENV)}'`, env.VIRTUAL_ENV);

  // conda / mamba installations and their envs.
  const condaRoots = [
    'miniconda3',
    'anaconda3',
    'miniforge3',
    'mambaforge',
    'micromamba',
    'opt/miniconda3',
    'opt/anaconda3',
    '.conda',
  ].map((d) => path.join(home, d));
  if (!win) condaRoots.push('/opt/conda', '/opt/miniconda3', '/opt/anaconda3', '/usr/local/miniconda3');
  if (env.MAMBA_ROOT_PREFIX) condaRoots.push(env.MAMBA_ROOT_PREFIX);
  const condaEnvs: string[] = [];
  for (const root of condaRoots) {
    condaEnvs.push(root, ...listDirs(path.join(root, 'envs')));
  }
  try {
    for (const line of readFileSync(path.join(home, '.conda', 'environments.txt'), 'utf8').split('\n')) {
      if (line.trim()) condaEnvs.push(line.trim());
    }
  } catch {
    // no conda
  }
  for (const e of condaEnvs) tryEnv('conda', `conda env '${path.basename(e)}'`, e);

  // virtualenvs.
  const venvs = [
    path.join(cwd, '.venv'),
    path.join(cwd, 'venv'),
    path.join(home, '.venv'),
    path.join(home, 'venv'),
    ...listDirs(path.join(home, '.virtualenvs')),
    ...listDirs(path.join(home, 'venvs')),
    ...listDirs(path.join(home, '.venvs')),
    ...listDirs(path.join(home, '.local', 'share', 'virtualenvs')),
    ...listDirs(path.join(home, '.cache', 'pypoetry', 'virtualenvs')),
  ];
  if (env.WORKON_HOME) venvs.push(...listDirs(env.WORKON_HOME));
  for (const v of venvs) tryEnv('venv', `virtualenv '${path.basename(v)}'`, v);

  // pipx.
  const pipxHomes = [
    env.PIPX_HOME,
    path.join(home, '.local', 'pipx'),
    path.join(home, '.local', 'share', 'pipx'),
  ].filter((x): x is string => !!x);
  for (const h of pipxHomes) tryEnv('pipx', 'pipx jupyterlab', path.join(h, 'venvs', 'jupyterlab'));
  const userBin = path.join(home, '.local', 'bin', exe);
  if (isExecutable(userBin)) add('pipx', `~/.local/bin/${exe}`, userBin);

  // JupyterLab Desktop's bundled server environment.
  for (const p of [
    path.join(home, '.local', 'share', 'jupyterlab-desktop', 'jlab_server'),
    path.join(home, 'Library', 'jupyterlab-desktop', 'jlab_server'),
    path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'jupyterlab-desktop', 'jlab_server'),
  ]) {
    tryEnv('jlab-desktop', 'JupyterLab Desktop environment', p);
  }
  return found.filter((f) => f.kind === 'user' || existsSync(f.executable));
}
