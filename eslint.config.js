import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'release/**', 'test-artifacts/**', 'provisioners/launchers/**'] },
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
    files: ['provisioners/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['electron', 'ws', 'http'] }] },
  },
);
