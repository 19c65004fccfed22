/**
 * The layers of services/api/src, checked by `pnpm depcheck` (part of `pnpm test`).
 *
 * Top, the HTTP face: routes/ (one file per operation), http/ (server, middleware, HTTP helpers),
 * the HTTP half of errors/ (handlers.ts, responses.ts: error bodies and the documented error
 * responses), and the wiring at the root (main.ts, app.ts, deps.ts, openapi*.ts).
 * Below it, services/: what an operation does, with no idea of HTTP.
 * Below that, the domain rules and adapters the services compose: refinement/ (multi-turn
 * edits), access/ (keys, scopes, limits, idempotency, credits: framework-neutral), catalog/
 * (models as data), providers/ (one adapter per upstream), images/ (sniffing, inspection),
 * storage/ (the blob store), db/ (schema and repositories), webhooks/ (signing, the SSRF
 * guard, the outbox port and its dispatcher).
 * Shared by every layer: errors/ (typed errors and their codes), schemas/ (the zod wire
 * schemas), ids.ts, bytes.ts, config.ts, logger.ts.
 *
 * Imports point down: nothing below the HTTP face imports http/ or routes/, nothing below
 * services/ imports services/, routes reach storage and the database only through services, and
 * no module outside tests imports a testing/ helper. Tests (`*.test.ts`) and testing/ helpers
 * may reach across layers to set things up; they still may not close a cycle.
 */
const TESTS = '(\\.test\\.ts$|/testing/)'
const SRC = '^services/api/src/'
const BELOW_HTTP = `${SRC}(services|refinement|access|catalog|providers|storage|images|db|schemas|webhooks)/|${SRC}errors/(?!handlers\\.ts$|responses\\.ts$)`
const BELOW_SERVICES = `${SRC}(refinement|access|catalog|providers|storage|images|db|schemas|errors|webhooks)/`

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: modules that cannot be read, tested or loaded one at a time.',
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: 'http-stays-on-top',
      severity: 'error',
      comment:
        'Only routes/, http/, the HTTP half of errors/ and the wiring may import http/ or routes/.',
      from: { path: BELOW_HTTP, pathNot: TESTS },
      to: { path: `${SRC}(http|routes)/` },
    },
    {
      name: 'services-stay-above-domain',
      severity: 'error',
      comment: 'services/ composes the layers below it; they never call back up into it.',
      from: { path: BELOW_SERVICES, pathNot: TESTS },
      to: { path: `${SRC}services/` },
    },
    {
      name: 'routes-go-through-services',
      severity: 'error',
      comment:
        'A route reaches the database and the blob store only through a service (naming a row type is not reaching it).',
      from: { path: `${SRC}routes/`, pathNot: TESTS },
      to: {
        dependencyTypesNot: ['type-only'],
        path: `${SRC}(db|storage)/|(^|/)node_modules/(drizzle-orm|better-sqlite3)/|^(node:)?fs(/promises)?$`,
      },
    },
    {
      name: 'test-helpers-stay-in-tests',
      severity: 'error',
      comment: 'testing/ modules are for tests and the bench; the product never loads them.',
      from: { path: SRC, pathNot: TESTS },
      to: { path: '/testing/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
    exclude: { path: '__fixtures__' },
  },
}
