// Flat config: typescript-eslint's type-checked rules, plus the layering walls of
// docs/architecture.md (only host/ runs processes, only the edges touch the file system).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pureCore = ['src/model/**', 'src/render/**', 'src/plan/**', 'src/validate/**', 'src/diag/**', 'src/state/**', 'src/config/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'bench/**', 'scripts/**', 'test/vm/**', 'bin/**', 'examples/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: true },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [{ name: 'node:child_process', message: 'Run tools through host/live-host.ts (host/run-process.ts: argv arrays, no shell).' }, { name: 'child_process', message: 'Run tools through host/live-host.ts.' }] }],
    },
  },
  {
    // The one place that starts processes.
    files: ['src/host/run-process.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: pureCore,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:fs', 'node:fs/*', 'fs', 'node:child_process', 'node:os', 'node:process'], message: 'The core is pure: no fs, processes, clock or environment here.' }] }],
      'no-restricted-globals': ['error', { name: 'process', message: 'The core is pure: pass what you need in.' }],
    },
  },
  {
    files: ['test/**'],
    rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-unsafe-assignment': 'off', '@typescript-eslint/no-unsafe-member-access': 'off', '@typescript-eslint/no-unsafe-argument': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
