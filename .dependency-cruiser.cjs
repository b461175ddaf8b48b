// Module rules the layout depends on (npm run lint:deps): no cycles, provisioners/ knows nothing of electron/,
// the renderer reaches the main process only through the host API contract and models, and only
// electron/main.ts and electron/preload.ts load Electron at run time (type-only imports are fine elsewhere).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A module must not import a module that imports it back (directly or through others).',
      from: {},
      to: {
        circular: true,
        dependencyTypesNot: ['type-only'],
        viaOnly: { dependencyTypesNot: ['type-only'] },
      },
    },
    {
      name: 'provisioners-stand-alone',
      severity: 'error',
      comment: 'provisioners/ is a library: no main-process, renderer or UI code.',
      from: { path: '^provisioners/' },
      to: { path: '^(electron|renderer)/' },
    },
    {
      name: 'electron-only-in-shell',
      severity: 'error',
      comment:
        "Only electron/main.ts and electron/preload.ts load 'electron'; everything else runs in plain Node.",
      from: { path: '^(electron|provisioners|scripts)/', pathNot: '^electron/(main|preload)\\.ts$' },
      to: { path: '^node_modules/electron/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'renderer-through-host-api',
      severity: 'error',
      comment: 'The renderer talks to the main process only through the host API contract and models.',
      from: { path: '^renderer/src/' },
      to: { path: '^(electron|provisioners)/', pathNot: '^electron/host-api/(contract|models)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|release|test-artifacts)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs'] },
  },
};
