/** Layering (STYLE habit 14): routes → services/engine → repositories → db. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'migrations-are-frozen',
      comment: 'Migrations never import application code.',
      severity: 'error',
      from: { path: '^migrations/' },
      to: { path: '^(src|workers)/' },
    },
    {
      name: 'engine-knows-no-http-or-consumers',
      comment: 'The provisioning engine imports no Fastify and no BullMQ consumer.',
      severity: 'error',
      from: { path: '^src/provisioning/' },
      to: {
        path: [
          '^node_modules/(fastify|@fastify|fastify-plugin|bullmq)/',
          '^workers/',
          '\\.routes\\.ts$',
          '^src/app\\.ts$',
        ],
      },
    },
    {
      name: 'workers-never-import-routes',
      severity: 'error',
      from: { path: '^workers/' },
      to: {
        path: [
          '\\.routes\\.ts$',
          '/routes\\.ts$',
          '^src/app\\.ts$',
          '^src/plugins/',
          '^node_modules/(fastify|@fastify)/',
        ],
      },
    },
    {
      name: 'routes-hold-no-sql',
      comment: 'Routes call services; SQL lives in repositories.',
      severity: 'error',
      from: { path: ['\\.routes\\.ts$', '/routes\\.ts$'] },
      to: { path: ['\\.repository\\.ts$', '^node_modules/(kysely|pg)/', '^src/db/(index|migrate)\\.ts$'] },
    },
    {
      name: 'sql-only-in-repositories',
      comment: 'Only repositories and the db layer (pool, migrations, statistics) build queries.',
      severity: 'error',
      from: {
        path: '^(src|workers)/',
        // src/scim/filter/sql.ts and sort.ts translate SCIM filters into SQL fragments that repositories execute.
        pathNot: [
          '\\.repository\\.ts$',
          '^src/db/',
          '^src/scim/filter/sql\\.ts$',
          '^src/scim/filter/sort\\.ts$',
        ],
      },
      to: { path: '^node_modules/kysely/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-does-not-import-workers',
      comment: 'Only the entry point starts workers in the same process (ROLE=all).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/start\\.ts$' },
      to: { path: '^workers/' },
    },
    {
      name: 'no-dev-deps-in-production-code',
      severity: 'error',
      from: { path: '^(src|workers|migrations)/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
