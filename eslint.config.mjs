// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs', 'fs/promises', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process',
  'events', 'stream', 'util', 'worker_threads', 'timers', 'dns', 'zlib', 'process',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', 'coverage/', 'test-results/', 'tools/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed deterministically inside Temporal's sandbox: it may import
    // only @temporalio/workflow, the pure decision modules and shared definitions.
    files: ['workflows/**/*.ts', 'domain/**/*.ts', 'common/definitions.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.map((name) => ({ name, message: 'Node builtins break the workflow bundle.' })),
          ...nodeBuiltins.map((name) => ({ name: `node:${name}`, message: 'Node builtins break the workflow bundle.' })),
          { name: 'mongodb', message: 'Database access belongs in activities.' },
          { name: '@temporalio/client', message: 'Not allowed in workflow code.' },
          { name: '@temporalio/worker', message: 'Not allowed in workflow code.' },
          { name: '@temporalio/activity', message: 'Not allowed in workflow code.' },
        ],
        patterns: [
          { group: ['../activities', '../activities/*', '../db', '../db/*', '../api/*', '../worker/*'], allowTypeImports: true, message: 'Import activities only as types.' },
        ],
      }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
