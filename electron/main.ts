// The Electron shell: one window with the React UI (loaded from app://gateway/, sandboxed, context-isolated,
// preload = the host API over IPC), the gateway proxy started by app-core on a stable per-install port with a
// token kept in the data dir, and the secure defaults (CSP, navigation/new-window guards, deny-all
// permissions, every IPC sender checked). Quitting with kernels running asks whether to shut them down or
// leave them running (re-attached on the next start).
import {
  BrowserWindow,
  Menu,
  app,
  dialog,
  ipcMain,
  protocol,
  safeStorage,
  session,
  shell,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { createAppCore, type AppCore } from './app-core';
import { registerIpcTransport } from './host-api/ipc-transport';
import { hostApiExtension } from './host-api/mount';
import type { HostService } from './host-api/service';
import { UI_CSP, contentTypeOf } from './host-api/static';
import { defaultDataDir } from './cli/data-dir';
import { installLastResortHandlers } from './process/last-resort';
import { argValue, proxyIdentity, readJson, writeJson } from './shell/desktop-state';
import { menuTemplate } from './shell/menu-template';

const APP_SCHEME = 'app';
const APP_ORIGIN = `${APP_SCHEME}://gateway`;
const APP_URL = `${APP_ORIGIN}/index.html`;

// ---- paths and small persisted state -------------------------------------------------------------------

/** Clusters, secrets and settings live where `npm run serve` / `npm run cluster` look by default. */
const dataDir =
  argValue(process.argv, '--data-dir') ?? process.env.GATEWAY_DESKTOP_DATA_DIR ?? defaultDataDir();
// Tests pass --user-data-dir; otherwise Electron's per-user folder.
const userDataOverride = argValue(process.argv, '--user-data-dir');
if (userDataOverride) app.setPath('userData', userDataOverride);

interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized?: boolean;
}

const windowStateFile = (): string => join(app.getPath('userData'), 'window-state.json');

// ---- app:// protocol: the built renderer ---------------------------------------------------------------

protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
  },
]);

function rendererDir(): string {
  return join(app.getAppPath(), 'dist', 'renderer');
}

function registerAppProtocol(): void {
  const root = rendererDir();
  protocol.handle(APP_SCHEME, async (req) => {
    const url = new URL(req.url);
    if (url.host !== 'gateway') return new Response('Not found', { status: 404 });
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = normalize(join(root, rel));
    if (!file.startsWith(root + sep) || !existsSync(file)) return new Response('Not found', { status: 404 });
    const headers = new Headers({ 'Content-Type': contentTypeOf(file), 'X-Content-Type-Options': 'nosniff' });
    if (file.endsWith('.html')) headers.set('Content-Security-Policy', UI_CSP);
    return new Response(new Uint8Array(await readFile(file)), { status: 200, headers });
  });
}

// ---- security policy -----------------------------------------------------------------------------------

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function isAppUrl(url: string): boolean {
  return url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);
}

function openExternalSafely(url: string): void {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' || u.protocol === 'http:' || u.protocol === 'mailto:')
      void shell.openExternal(u.href);
  } catch {
    // not a URL: ignore
  }
}

/** Lab windows may only navigate within their own server's origin. */
const pinnedOrigins = new WeakMap<WebContents, string>();

function installGuards(): void {
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event, url) => {
      const pinned = pinnedOrigins.get(contents);
      if (pinned ? originOf(url) === pinned : isAppUrl(url)) return;
      event.preventDefault();
      if (/^https?:/.test(url)) openExternalSafely(url);
    });
    contents.on('will-redirect', (event, url) => {
      const pinned = pinnedOrigins.get(contents);
      if (pinned ? originOf(url) !== pinned : !isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      openExternalSafely(url);
      return { action: 'deny' };
    });
  });
  const allow = new Set(['clipboard-sanitized-write']);
  const policy = (s: Electron.Session): void => {
    s.setPermissionRequestHandler((_wc, permission, callback) => callback(allow.has(permission)));
    s.setPermissionCheckHandler((_wc, permission) => allow.has(permission));
  };
  policy(session.defaultSession);
  app.on('session-created', policy);
}

// ---- windows -------------------------------------------------------------------------------------------

let mainWindow: BrowserWindow | null = null;

function createMainWindow(): BrowserWindow {
  const saved = readJson<WindowState>(windowStateFile());
  const win = new BrowserWindow({
    width: saved?.width ?? 1200,
    height: saved?.height ?? 800,
    x: saved?.x,
    y: saved?.y,
    minWidth: 720,
    minHeight: 480,
    title: 'Gateway Desktop',
    show: false,
    backgroundColor: '#f6f7f9',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
      devTools: !app.isPackaged || process.env.GATEWAY_DESKTOP_DEVTOOLS === '1',
    },
  });
  if (saved?.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  let timer: NodeJS.Timeout | null = null;
  const save = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      if (win.isDestroyed()) return;
      const b = win.getNormalBounds();
      writeJson(windowStateFile(), { ...b, maximized: win.isMaximized() } satisfies WindowState, 0o644);
    }, 300);
  };
  win.on('resize', save);
  win.on('move', save);
  win.on('close', () => {
    if (timer) clearTimeout(timer);
    const b = win.getNormalBounds();
    writeJson(windowStateFile(), { ...b, maximized: win.isMaximized() } satisfies WindowState, 0o644);
  });
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_URL);
  return win;
}

let labWindow: BrowserWindow | null = null;

/** JupyterLab in its own window and session partition, no preload, navigation pinned to its server. */
function openLabWindow(url: string): void {
  const origin = originOf(url);
  if (!origin) return;
  if (labWindow && !labWindow.isDestroyed()) {
    if (pinnedOrigins.get(labWindow.webContents) === origin) {
      labWindow.focus();
      return;
    }
    labWindow.close();
  }
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'JupyterLab — Gateway Desktop',
    webPreferences: {
      partition: 'persist:jupyterlab',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false,
    },
  });
  pinnedOrigins.set(win.webContents, origin);
  win.on('closed', () => {
    if (labWindow === win) labWindow = null;
  });
  labWindow = win;
  void win.loadURL(url);
}

function buildMenu(): void {
  const template = menuTemplate({
    platform: process.platform,
    packaged: app.isPackaged,
    openDataFolder: () => void shell.openPath(dataDir),
    openDocs: () => openExternalSafely('https://jupyter-enterprise-gateway.readthedocs.io/'),
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

// ---- startup and quit ----------------------------------------------------------------------------------

let core: AppCore | null = null;
let service: HostService | null = null;
let unregisterIpc: (() => void) | null = null;

async function startCore(): Promise<void> {
  const id = proxyIdentity(dataDir);
  const extension = hostApiExtension({
    shell: 'electron',
    serveUi: false,
    appVersion: app.getVersion(),
    safeStorage,
    // "Open JupyterLab" opens the lab in an app window (the browser does this itself in serve mode).
    onLabUrl: openLabWindow,
    onReady: (s) => {
      service = s;
    },
  });
  const start = (port: number) =>
    createAppCore({
      dataDir,
      port,
      token: id.token,
      clusterStore: true,
      safeStorage,
      // "Leave running" at quit: local kernels are launched untied from this process (no JPY_PARENT_PID).
      kernelsOutliveApp: true,
      extensions: [extension],
    });
  try {
    core = await start(id.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || id.port === 0) throw err;
    core = await start(0); // the saved port is taken: pick another and remember it
  }
  writeJson(id.file, { port: core.port, token: id.token });
}

function trustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return (
    mainWindow !== null &&
    !mainWindow.isDestroyed() &&
    event.sender === mainWindow.webContents &&
    frame !== null &&
    frame.processId === event.sender.mainFrame.processId &&
    frame.routingId === event.sender.mainFrame.routingId &&
    isAppUrl(frame.url)
  );
}

function wireIpc(s: HostService): void {
  unregisterIpc = registerIpcTransport<IpcMainInvokeEvent>({
    ipcMain,
    service: s,
    isTrustedSender: trustedSender,
    broadcast: (channel, msg) => {
      if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(channel, msg);
    },
    onRejected: (_e, channel) => s.log.warn('ipc', `refused ${channel} from an untrusted sender`),
  });
}

let quitting = false;

type QuitChoice = 'shutdown' | 'leave' | 'cancel';

/** The quit dialog's buttons, in order: default "Shut down kernels" (0), cancel "Cancel" (2). */
const QUIT_BUTTONS = ['Shut down kernels', 'Leave running', 'Cancel'] as const;

/**
 * Before quitting with kernels running: shut them down, leave them running (the next start re-attaches them
 * under the same ids), or cancel. The "When I quit" setting (or GATEWAY_DESKTOP_QUIT) answers without asking.
 */
async function confirmQuit(): Promise<QuitChoice> {
  if (!core || !service) return 'shutdown';
  const running = core.registry.list().filter((k) => k.executionState !== 'dead');
  if (running.length === 0) return 'shutdown';
  const settings = await service.getSettings();
  const envChoice = process.env.GATEWAY_DESKTOP_QUIT;
  const choice = envChoice === 'shutdown' || envChoice === 'leave' ? envChoice : settings.quitBehaviour;
  if (choice === 'shutdown' || choice === 'leave') return choice;
  const n = running.length;
  const options: Electron.MessageBoxOptions = {
    type: 'question',
    buttons: [...QUIT_BUTTONS],
    defaultId: 0,
    cancelId: 2,
    noLink: true,
    title: 'Kernels are running',
    message: `${n} kernel${n === 1 ? ' is' : 's are'} still running.`,
    detail:
      'Shut down kernels: they stop now; variables in them are lost.\n' +
      'Leave running: they keep running (and computing) after Gateway Desktop quits; the next start ' +
      're-attaches them, so notebooks connected to them carry on where they were.',
    checkboxLabel: 'Do not ask again',
  };
  const r = mainWindow
    ? await dialog.showMessageBox(mainWindow, options)
    : await dialog.showMessageBox(options);
  const picked: QuitChoice = r.response === 0 ? 'shutdown' : r.response === 1 ? 'leave' : 'cancel';
  if (picked !== 'cancel' && r.checkboxChecked) await service.updateSettings({ quitBehaviour: picked });
  return picked;
}

/** Quit: kernels shut down (default, and on SIGINT/SIGTERM) or left running for the next start. */
async function shutdownAndQuit(leaveRunning = false): Promise<void> {
  quitting = true;
  try {
    unregisterIpc?.();
    await core?.close({ leaveRunning });
  } finally {
    app.exit(0);
  }
}

function main(): void {
  // Electron's default for an uncaught error in the main process is a dialog and, often, a dead app with
  // every kernel gone: log it and keep serving instead.
  installLastResortHandlers((line) => console.error(`[main] ${line}`));
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (!mainWindow) mainWindow = createMainWindow();
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    void confirmQuit().then((choice) => {
      if (choice !== 'cancel') void shutdownAndQuit(choice === 'leave');
      // Cancelled after the last window closed: bring the window back rather than run invisibly.
      else if (!mainWindow && core) mainWindow = createMainWindow();
    });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (!mainWindow && app.isReady() && core) mainWindow = createMainWindow();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void shutdownAndQuit());

  void app.whenReady().then(async () => {
    installGuards();
    registerAppProtocol();
    buildMenu();
    try {
      await startCore();
    } catch (err) {
      dialog.showErrorBox(
        'Gateway Desktop cannot start',
        `The local gateway did not start: ${err instanceof Error ? err.message : String(err)}\n\nData folder: ${dataDir}`,
      );
      app.exit(1);
      return;
    }
    if (service) wireIpc(service);
    mainWindow = createMainWindow();
  });
}

main();
