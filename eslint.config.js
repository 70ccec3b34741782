// ESLint (flat config). Besides typescript-eslint's recommended rules it enforces the layer map (README "Layout"):
// a file under src/<layer>/ imports only from its own layer and the layers listed for it below, and no two files
// of src/ import each other in a cycle. Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Which layers each layer of src/ may import from (besides itself). Lower layers never import higher ones. */
export const LAYERS = {
  util: [],
  kube: ['util'],
  controller: ['kube', 'util'],
  trace: ['util'],
  arena: ['trace', 'util'],
  api: ['arena', 'trace', 'controller', 'kube', 'util'],
  sim: ['api', 'arena', 'trace', 'controller', 'kube', 'util'],
  agents: ['api', 'arena', 'trace', 'kube', 'util'],
  bench: ['agents', 'sim', 'api', 'arena', 'trace', 'util'],
  operator: ['agents', 'sim', 'api', 'arena', 'trace', 'controller', 'kube', 'util'],
  envserver: ['agents', 'sim', 'api', 'arena', 'trace', 'kube', 'util'],
  mcp: ['agents', 'sim', 'api', 'arena', 'trace', 'kube', 'util'],
  cli: [
    'operator',
    'envserver',
    'mcp',
    'bench',
    'agents',
    'sim',
    'api',
    'arena',
    'trace',
    'controller',
    'kube',
    'util',
  ],
};

const layerZones = Object.entries(LAYERS).map(([layer, allowed]) => ({
  target: `./src/${layer}`,
  from: './src',
  except: [`./${layer}`, ...allowed.map((l) => `./${l}`)],
  message: `src/${layer} may import only from src/{${[layer, ...allowed].join(',')}} (the layer map in README "Layout")`,
}));

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.cluster/',
      '.cache/',
      'coverage/',
      'runs/',
      'python/',
      'test/cluster/bin/',
      'deploy/',
      'charts/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.cjs'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // Unused arguments are part of interfaces; an underscore marks a deliberately unused binding.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'none', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      'import-x/no-self-import': 'error',
      // chai's property assertions (expect(x).to.exist) are expressions by design.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // Tests read JSON answers and YAML manifests whose shape is what is under test.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...layerZones,
            { target: './src', from: ['./test', './bench'], message: 'src/ never imports test or benchmark code' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { URL: 'readonly', process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
