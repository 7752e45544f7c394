// Module boundaries mean something here:
// - contracts (generated from proto/) import no other project;
// - core and domain libs are plain TypeScript: no Nest, no Kafka, no MongoDB, no gRPC;
// - adapters implement ports with a driver but know nothing of Nest;
// - service libs wire a service's handlers into Nest; apps compose one service (or, for
//   `mandate`, all of them) and import only their own scope plus shared libs.
import nx from '@nx/eslint-plugin';
import importPlugin from 'eslint-plugin-import';

const infrastructure = [
  '@nestjs/*',
  'kafkajs',
  'mongodb',
  '@grpc/*',
  'express',
  'pino',
  'prom-client',
];
const scopes = ['orchestrator', 'policy', 'human-review', 'audit-ledger', 'crm-connectors'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: [
      '**/node_modules',
      '**/dist',
      '**/coverage',
      '.stack',
      '.nx',
      'libs/contracts/src/gen/**',
    ],
  },
  {
    files: ['**/*.ts'],
    plugins: { import: importPlugin },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'import/no-cycle': ['error', { maxDepth: 10 }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': ['error', { allow: ['error'] }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            {
              sourceTag: 'type:core',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:core'],
              bannedExternalImports: infrastructure,
            },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:core', 'type:domain'],
              bannedExternalImports: infrastructure,
            },
            {
              sourceTag: 'type:adapter',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:core', 'type:domain'],
              bannedExternalImports: ['@nestjs/*'],
            },
            {
              sourceTag: 'type:platform',
              onlyDependOnLibsWithTags: [
                'type:contracts',
                'type:core',
                'type:domain',
                'type:adapter',
              ],
            },
            {
              sourceTag: 'type:service',
              onlyDependOnLibsWithTags: [
                'type:contracts',
                'type:core',
                'type:domain',
                'type:adapter',
                'type:platform',
              ],
            },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:contracts',
                'type:core',
                'type:domain',
                'type:adapter',
                'type:platform',
                'type:service',
              ],
            },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            ...scopes.map((scope) => ({
              sourceTag: `scope:${scope}`,
              onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared'],
            })),
            {
              sourceTag: 'scope:mandate',
              onlyDependOnLibsWithTags: [
                'scope:mandate',
                'scope:shared',
                ...scopes.map((s) => `scope:${s}`),
              ],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/testing/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['tools/**/*.js', '*.js', '*.mjs'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
];
