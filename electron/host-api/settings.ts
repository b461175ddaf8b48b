// Desktop settings (theme, quit behaviour, JupyterLab folder and command), kept as JSON in the data dir.
// Written atomically (temp file + rename); a broken file falls back to defaults and is reported.
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from './contract';
import type { QuitBehaviour, Settings, ThemeSetting } from './models';

export const SETTINGS_FILE = 'desktop-settings.json';

export function defaultSettings(): Settings {
  return { theme: 'system', quitBehaviour: 'ask', notebookDir: '', labCommand: '' };
}

const THEMES: ThemeSetting[] = ['system', 'light', 'dark'];
const QUITS: QuitBehaviour[] = ['ask', 'shutdown', 'leave'];

/** Checks a settings patch; throws HostError('invalid-input') naming the bad field. */
export function checkSettingsPatch(patch: unknown): Partial<Settings> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw new HostError({ code: 'invalid-input', message: 'Settings must be an object.' });
  const out: Partial<Settings> = {};
  const fieldErrors: Record<string, string> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'theme') {
      if (THEMES.includes(v as ThemeSetting)) out.theme = v as ThemeSetting;
      else fieldErrors.theme = 'Pick system, light or dark.';
    } else if (k === 'quitBehaviour') {
      if (QUITS.includes(v as QuitBehaviour)) out.quitBehaviour = v as QuitBehaviour;
      else fieldErrors.quitBehaviour = 'Pick ask, shutdown or leave.';
    } else if (k === 'notebookDir' || k === 'labCommand') {
      if (typeof v === 'string' && v.length < 4096 && !/[\0\r\n]/.test(v)) out[k] = v;
      else fieldErrors[k] = 'Enter a single line of text.';
    } else fieldErrors[k] = 'Unknown setting.';
  }
  if (Object.keys(fieldErrors).length)
    throw new HostError({ code: 'invalid-input', message: 'Some settings are not valid.', fieldErrors });
  return out;
}

export class SettingsStore {
  private current: Settings = defaultSettings();
  private readonly path: string;

  constructor(private readonly dir: string) {
    this.path = join(dir, SETTINGS_FILE);
  }

  /** Loads the file; returns a warning when it existed but could not be used. */
  async load(): Promise<string | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return null;
    }
    try {
      this.current = { ...defaultSettings(), ...checkSettingsPatch(JSON.parse(text)) };
      return null;
    } catch (err) {
      return `${this.path} could not be read (${err instanceof Error ? err.message : String(err)}); using defaults.`;
    }
  }

  get(): Settings {
    return { ...this.current };
  }

  async update(patch: unknown): Promise<Settings> {
    const clean = checkSettingsPatch(patch);
    this.current = { ...this.current, ...clean };
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.current, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, this.path);
    return this.get();
  }
}
