// @ts-check
/**
 * One flat config for the whole workspace (style guide section 11). `pnpm lint` = `eslint . --max-warnings 0`.
 *
 * - Every TypeScript file: typescript-eslint's recommended rules plus eqeqeq and curly (multi-line).
 * - Type-aware rules (no-floating-promises, no-misused-promises, switch-exhaustiveness-check) on the product
 *   sources only: apps/api/src, apps/web/src, libs/*\/src. They use the TypeScript project service, i.e. each
 *   file is checked with the tsconfig.json nearest to it. Spec files of libs/* are outside their tsconfig.json
 *   (excluded from the build), so they get the plain rules only.
 * - Boundaries: libs/* never import apps/*, the web never imports the API or server frameworks.
 * - console is allowed in scripts, CLIs, benchmarks and tests; forbidden in the product sources (use Nest's Logger
 *   or write to process.stdout on purpose).
 */
import tseslint from 'typescript-eslint';

const TYPE_AWARE_FILES = ['apps/api/src/**/*.ts', 'apps/web/src/**/*.{ts,tsx}', 'libs/*/src/**/*.ts'];

/** Node globals for the plain JavaScript files (configs and scripts); no `globals` package at the root. */
const NODE_GLOBALS = Object.fromEntries(
  [
    'process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'setTimeout', 'clearTimeout', 'setInterval',
    'clearInterval', 'setImmediate', 'AbortController', 'fetch', 'structuredClone', 'performance',
  ].map((name) => [name, 'readonly']),
);
const COMMONJS_GLOBALS = { module: 'writable', require: 'readonly', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' };

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '**/test-artifacts/**',
      'data/**',
      '**/*.d.ts',
      '**/.vite/**',
      '**/fixtures/models/**',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  // ---------------------------------------------------------------- every TypeScript file
  {
    files: ['**/*.{ts,tsx,mts,cts}'],
    extends: [tseslint.configs.recommended],
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      curly: ['error', 'multi-line'],
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },

  // ---------------------------------------------------------------- type-aware rules on the product sources
  {
    files: TYPE_AWARE_FILES,
    ignores: ['libs/*/src/**/*.spec.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
    },
  },

  // ---------------------------------------------------------------- boundaries: libs never import apps; the web never imports the server
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@app/api', '@app/api/*', '@app/web', '@app/web/*', '**/apps/**'], message: 'libs/* must not import apps/*' }] },
      ],
    },
  },
  {
    files: ['apps/web/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@app/api', '@app/api/*', '**/apps/api/**', '**/api/src/**'], message: 'the web talks to the API over HTTP/Socket.IO only' },
            { group: ['@nestjs/*', 'typeorm'], message: 'no server frameworks in the web bundle' },
          ],
        },
      ],
    },
  },

  // ---------------------------------------------------------------- tests: console and `any` (test doubles) allowed
  {
    files: ['**/test/**/*.{ts,tsx}', '**/__tests__/**/*.{ts,tsx}', '**/*.spec.{ts,tsx}', '**/*.test.{ts,tsx}', '**/*.e2e-spec.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },

  // ---------------------------------------------------------------- scripts, CLIs and benchmarks: console is their UI
  {
    files: [
      'scripts/**',
      '**/bench/**',
      '**/*.bench.ts',
      'libs/agent-sdk/src/cli.ts',
      'libs/agent-sdk/src/cli/**',
      '**/*.config.{js,mjs,cjs,ts}',
    ],
    rules: { 'no-console': 'off' },
  },

  // ---------------------------------------------------------------- plain JavaScript (configs, scripts)
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: NODE_GLOBALS },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      curly: ['error', 'multi-line'],
      'no-undef': 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.cjs', '**/jest.config.js', 'apps/api/**/*.js', 'libs/agent-sdk/**/*.js'],
    ignores: ['apps/web/**'],
    languageOptions: { sourceType: 'commonjs', globals: { ...NODE_GLOBALS, ...COMMONJS_GLOBALS } },
  },
);
