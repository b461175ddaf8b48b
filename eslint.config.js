import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'release/**',
      'test-artifacts/**',
      'provisioners/launchers/**',
      '.dependency-cruiser.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      // No Node or Electron modules, and no main-process code except the host API contract + models
      // (a bare 'electron' pattern would also match the ../electron/host-api/ folder the contract lives in).
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'fs', 'path', 'child_process', 'os', 'http', 'ws'],
          patterns: [
            { group: ['node:*'], message: 'The renderer runs sandboxed: no Node modules.' },
            {
              regex: '(^|/)electron/(?!host-api/(contract|models)$)',
              message: 'The renderer talks to the main process only through the host API contract.',
            },
          ],
        },
      ],
    },
  },
  {
    // Renderer unit tests run in Node (node:test); the renderer code they test stays Node-free.
    files: ['renderer/test/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // A library: no Electron and no main-process code (REST clients for Kubernetes or YARN are fine).
    // npm run lint also runs dependency-cruiser (.dependency-cruiser.cjs): no import cycles, same rules.
    files: ['provisioners/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron'],
          patterns: [
            { regex: '(^|/)electron/', message: 'provisioners/ must not import main-process code.' },
          ],
        },
      ],
    },
  },
  {
    // Only the Electron shell loads 'electron'; the rest of the main process runs in plain Node (tests, serve).
    files: ['electron/**/*.ts'],
    ignores: ['electron/main.ts', 'electron/preload.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              allowTypeImports: true,
              message:
                "Only electron/main.ts and electron/preload.ts import 'electron' (type-only imports are fine).",
            },
          ],
        },
      ],
    },
  },
);
