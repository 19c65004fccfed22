import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { createImagegateClient } from '@imagegate/client'
import pino from 'pino'
import { createApp } from '../app.ts'
import { type Config, loadConfig } from '../config.ts'
import { openPostgres } from '../db/pg-client.ts'
import { createDeps, type DepsOverrides } from '../deps.ts'
import { createTestDatabase } from './postgres.ts'

export type TestAppOptions = DepsOverrides & {
  env?: Record<string, string>
  /**
   * Where metadata lives: an in-memory SQLite database (the default), a fresh PostgreSQL
   * database on the machine's server (dropped by `close`), or the database of another test app
   * on PostgreSQL (`sharedWith`), as a second instance of one deployment.
   */
  database?: 'sqlite' | 'postgres' | { sharedWith: { config: Config; key: string } }
}

/** A signing secret for test apps on PostgreSQL, which require one. */
const TEST_URL_SIGNING_SECRET = 'Tq3vX8mZp2LwR7sKc4YhN9bGd1FjU6aE0oWiV5eQyHt'

/**
 * Limits and credits of the test workspace: high enough that no test trips them by accident.
 * Tests about limits and credits set their own through `env`.
 */
const GENEROUS: Record<string, string> = {
  IMAGEGATE_KEY_REQUESTS_PER_MINUTE: '1000000',
  IMAGEGATE_KEY_IMAGES_PER_MINUTE: '1000000',
  IMAGEGATE_WORKSPACE_REQUESTS_PER_MINUTE: '1000000',
  IMAGEGATE_WORKSPACE_IMAGES_PER_MINUTE: '1000000',
  IMAGEGATE_BOOTSTRAP_CREDITS: '1000000',
}

/**
 * `Authorization: Bearer <key>` unless the request already says something about it. Set in
 * place: a copy of the Request would start pulling its body stream, which upload tests count.
 */
function withKey(request: Request, key: string): Request {
  if (!request.headers.has('authorization')) {
    request.headers.set('authorization', `Bearer ${key}`)
  }
  return request
}

/**
 * An app on private dependencies: a temp data dir, an in-memory database, and logs captured as
 * parsed lines so tests can assert what was (and was not) logged. The first start provisions
 * workspace `default` and an admin key (`key`); `app.request`, `app.fetch` and `client` send it
 * unless a request carries its own Authorization header. `hono` is the app itself, keyless.
 */
export async function createTestApp(options: TestAppOptions = {}) {
  const { database: backend = 'sqlite', env, ...overrides } = options
  const dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-test-'))
  const sharedWith = typeof backend === 'object' ? backend.sharedWith : undefined
  const testDatabase = backend === 'postgres' ? await createTestDatabase() : undefined
  const databaseUrl = testDatabase?.url ?? sharedWith?.config.databaseUrl
  if (sharedWith && databaseUrl === undefined) {
    throw new Error('only a test app on PostgreSQL can share its database')
  }
  const postgresEnv: Record<string, string> = databaseUrl
    ? { IMAGEGATE_DATABASE_URL: databaseUrl, IMAGEGATE_URL_SIGNING_SECRET: TEST_URL_SIGNING_SECRET }
    : {}
  const config: Config = loadConfig({
    IMAGEGATE_DATA_DIR: dataDir,
    ...GENEROUS,
    ...postgresEnv,
    ...env,
  })
  const logLines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (line.trim()) {
          logLines.push(JSON.parse(line) as Record<string, unknown>)
        }
      }
      done()
    },
  })
  const postgres = databaseUrl ? await openPostgres(databaseUrl) : undefined
  const deps = await createDeps(config, {
    databaseFile: ':memory:',
    log: pino({ level: 'debug' }, sink),
    ...(postgres ? { postgres } : {}),
    ...overrides,
  })
  const key = sharedWith?.key ?? deps.bootstrap?.key
  if (key === undefined) {
    throw new Error('a fresh test database must bootstrap an admin key')
  }
  deps.jobs.worker.start()
  const hono = createApp(deps)
  const app = {
    fetch: (request: Request, ...rest: unknown[]) =>
      hono.fetch(withKey(request, key), ...(rest as [undefined])),
    /** As Hono's `app.request`: a path (or URL) and RequestInit, or a Request. */
    request(input: string | URL | Request, init?: RequestInit) {
      if (input instanceof Request) {
        return hono.fetch(withKey(init ? new Request(input, init) : input, key))
      }
      const text = input.toString()
      const url = /^https?:\/\//.test(text) ? text : `http://localhost${text}`
      return hono.fetch(withKey(new Request(url, init), key))
    },
  }
  const client = createImagegateClient({
    baseUrl: 'http://imagegate.test',
    apiKey: key,
    fetch: async (request) => hono.fetch(request),
  })
  return {
    app,
    hono,
    key,
    deps,
    client,
    config,
    logLines,
    async close() {
      await deps.close()
      await testDatabase?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>
