import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateApiKey } from '../../services/api/src/access/api-key-format.ts'
import { unitsToCredits } from '../../services/api/src/access/credit-units.ts'
import { connectRedis, openRedis } from '../../services/api/src/access/redis-client.ts'
import type { PgCluster } from '../../services/api/src/testing/pg-cluster.ts'
import { startPgCluster } from '../../services/api/src/testing/pg-cluster.ts'
import {
  createTestDatabase,
  queryDatabase,
  type TestDatabase,
} from '../../services/api/src/testing/postgres.ts'
import {
  deleteKeysUnder,
  type OwnRedisServer,
  startOwnRedisServer,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
} from '../../services/api/src/testing/redis.ts'
import { createS3TestClient, listBucketKeys } from '../../services/api/src/testing/s3-objects.ts'
import { type S3TestServer, startS3TestServer } from '../../services/api/src/testing/s3-server.ts'
import { distinctPngs } from '../fakes/distinct-pngs.ts'
import { type FakeUpstream, startFakeUpstream } from '../fakes/fake-upstream.ts'
import { photoPng } from '../fakes/photo-png.ts'
import { bearer, startServer, stop } from './processes.ts'
import { s3Env } from './s3-env.ts'

export type ScaledBackendsOptions = {
  /**
   * A PostgreSQL server of the test's own (initdb into a temp dir), which it may stop, kill and
   * start again. Default: a fresh database on the machine's server.
   */
  ownPostgres?: boolean
  /** A redis-server of the test's own, which it may kill. Default: the machine's. */
  ownRedis?: boolean
  /** Environment every instance gets, on top of the backends' (limits, leases…). */
  env?: Record<string, string>
}

/** One imagegate process of the deployment. */
export type Instance = {
  name: string
  url: string
  /** The operator's admin key (IMAGEGATE_BOOTSTRAP_ADMIN_KEY), the same on every instance. */
  key: string
  child: ChildProcess
  dataDir: string
  output(): string
  /** Resolves with the exit code (null after a signal) once the process has gone. */
  exited: Promise<number | null>
  /** SIGTERM: in-flight requests finish first. */
  stop(): Promise<void>
  /** SIGKILL: gone at once, as in a crash. */
  kill(): Promise<void>
}

export type ScaledBackends = {
  databaseUrl: string
  /** The private server, with `ownPostgres`. */
  postgres: PgCluster | undefined
  s3: S3TestServer
  /** Where the instances' blobs are: `<s3Prefix>sha256/<hex>` in `s3.bucket`. */
  s3Prefix: string
  redisUrl: string
  /** The private server, with `ownRedis`. */
  redis: OwnRedisServer | undefined
  redisKeyPrefix: string
  /** The OpenAI-compatible upstream every instance calls: one call list for the deployment. */
  fake: FakeUpstream
  adminKey: string
  /** What every instance shares: backends, secrets, the upstream, `env`. */
  env: Record<string, string>
  /** One statement against the shared database, on a connection of its own. */
  query<T extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>
  /** Every object under the instances' prefix, asked of the S3 server directly. */
  bucketKeys(): Promise<string[]>
  /** A new instance with a data dir of its own; `env` adds to (or overrides) the shared one. */
  startInstance(name: string, env?: Record<string, string>): Promise<Instance>
  /** Stops every instance and undoes everything: database, bucket, Redis keys, temp dirs. */
  close(): Promise<void>
}

/** A different real encoder's PNG on every upstream call (distinct-pngs.ts). */
async function distinctUpstreamImages() {
  const pool = await Promise.all([0, 1, 2].map((seed) => photoPng(seed, 96, 96)))
  return distinctPngs(pool)
}

/**
 * What N instances of one deployment share: a PostgreSQL database, an s3rver with a bucket of
 * its own, a Redis key prefix, the URL signing secret and the operator's admin key, and one fake
 * upstream. Instances are real server processes (test/support/processes.ts), each with a data
 * dir of its own, as on separate machines.
 */
export async function startScaledBackends(
  options: ScaledBackendsOptions = {},
): Promise<ScaledBackends> {
  const undo: (() => Promise<void> | void)[] = []
  const instances: Instance[] = []
  const root = mkdtempSync(path.join(tmpdir(), 'imagegate-scaled-'))
  undo.push(() => rmSync(root, { recursive: true, force: true }))
  const cleanUp = async () => {
    await Promise.all(instances.map((instance) => instance.kill()))
    for (const step of undo.splice(0).reverse()) {
      await step()
    }
  }
  try {
    let postgres: PgCluster | undefined
    let database: TestDatabase
    if (options.ownPostgres) {
      const cluster = await startPgCluster()
      postgres = cluster
      undo.push(() => cluster.destroy())
      database = await createTestDatabase(cluster.adminUrl)
    } else {
      database = await createTestDatabase()
      undo.push(() => database.drop())
    }
    const s3 = await startS3TestServer()
    undo.push(() => s3.stop())
    const s3Client = createS3TestClient(s3)
    undo.push(() => s3Client.destroy())
    const { prefix: s3Prefix, env: blobEnv } = s3Env(s3)

    let redis: OwnRedisServer | undefined
    let redisUrl = TEST_REDIS_URL
    const redisKeyPrefix = uniqueKeyPrefix()
    if (options.ownRedis) {
      const own = await startOwnRedisServer()
      redis = own
      redisUrl = own.url
      undo.push(() => own.kill())
    } else {
      undo.push(async () => {
        const connection = openRedis(TEST_REDIS_URL)
        try {
          await connectRedis(connection)
          await deleteKeysUnder(connection, redisKeyPrefix)
        } finally {
          connection.disconnect()
        }
      })
    }

    const fake = await startFakeUpstream({ imageBase64For: await distinctUpstreamImages() })
    undo.push(() => fake.close())
    const adminKey = generateApiKey((size) => randomBytes(size)).key
    const env: Record<string, string> = {
      IMAGEGATE_DATABASE_URL: database.url,
      ...blobEnv,
      IMAGEGATE_REDIS_URL: redisUrl,
      IMAGEGATE_REDIS_KEY_PREFIX: redisKeyPrefix,
      IMAGEGATE_URL_SIGNING_SECRET: randomBytes(32).toString('hex'),
      IMAGEGATE_BOOTSTRAP_ADMIN_KEY: adminKey,
      IMAGEGATE_OPENAI_API_KEY: 'sk-fake',
      IMAGEGATE_OPENAI_BASE_URL: `${fake.url}/v1`,
      IMAGEGATE_LOG_LEVEL: 'info',
      ...options.env,
    }

    return {
      databaseUrl: database.url,
      postgres,
      s3,
      s3Prefix,
      redisUrl,
      redis,
      redisKeyPrefix,
      fake,
      adminKey,
      env,
      query: (text, values) => queryDatabase(database.url, text, values),
      bucketKeys: () => listBucketKeys(s3Client, s3.bucket, s3Prefix),
      async startInstance(name, extra = {}) {
        const dataDir = path.join(root, name)
        const server = await startServer({ ...env, IMAGEGATE_DATA_DIR: dataDir, ...extra })
        const exited = new Promise<number | null>((resolve) => {
          if (server.child.exitCode !== null || server.child.signalCode !== null) {
            resolve(server.child.exitCode)
          } else {
            server.child.once('exit', (code) => resolve(code))
          }
        })
        const instance: Instance = {
          name,
          url: server.url,
          key: server.key,
          child: server.child,
          dataDir,
          output: server.output,
          exited,
          stop: () => stop(server.child),
          async kill() {
            if (server.child.exitCode === null && server.child.signalCode === null) {
              server.child.kill('SIGKILL')
            }
            await exited
          },
        }
        instances.push(instance)
        return instance
      },
      close: cleanUp,
    }
  } catch (error) {
    await cleanUp()
    throw error
  }
}

export type Answer = {
  status: number
  headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: tests read error and success bodies alike
  body: Record<string, any> | undefined
  /** The body as it came, for byte comparisons. */
  bytes: Uint8Array
  ms: number
}

/**
 * One request to an instance with `key` (or none), JSON in and out: the status, headers and
 * parsed body whatever the status, and how long it took. A FormData body goes as multipart.
 */
export async function call(
  instance: Pick<Instance, 'url'>,
  route: string,
  init: {
    method?: string
    key?: string
    json?: unknown
    form?: FormData
    headers?: Record<string, string>
    signal?: AbortSignal
  } = {},
): Promise<Answer> {
  const started = performance.now()
  const response = await fetch(`${instance.url}${route}`, {
    method: init.method ?? (init.json !== undefined || init.form ? 'POST' : 'GET'),
    headers: {
      ...(init.key ? bearer(init.key) : {}),
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    ...(init.form ? { body: init.form } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
  })
  const bytes = new Uint8Array(await response.arrayBuffer())
  const type = response.headers.get('content-type') ?? ''
  return {
    status: response.status,
    headers: response.headers,
    body:
      type.includes('json') && bytes.byteLength > 0
        ? JSON.parse(Buffer.from(bytes).toString())
        : undefined,
    bytes,
    ms: performance.now() - started,
  }
}

/** A multipart upload of `bytes` as a PNG, with its digest header, as clients send it. */
export function uploadForm(bytes: Uint8Array, folderPath?: string): FormData {
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'upload.png')
  if (folderPath) {
    form.append('folderPath', folderPath)
  }
  return form
}

export type PgLedgerAudit = {
  /** credit_accounts.balance, in credits. */
  balance: number
  /** The sum of the workspace's ledger rows, in credits. */
  ledgerSum: number
  held: number
  settled: number
  released: number
  /** Ledger rows by kind. */
  rows: Record<string, number>
  /** Reservations without exactly one reserve row, or closed without exactly one close row. */
  malformed: number
}

/** A workspace's credits as the shared database says, read on a connection of the test's own. */
export async function auditPgLedger(
  query: ScaledBackends['query'],
  workspaceId: string,
): Promise<PgLedgerAudit> {
  const [account] = await query<{ balance: string }>(
    'SELECT balance FROM credit_accounts WHERE workspace_id = $1',
    [workspaceId],
  )
  const [sum] = await query<{ total: string | null }>(
    'SELECT SUM(delta) AS total FROM credit_ledger WHERE workspace_id = $1',
    [workspaceId],
  )
  const states = await query<{ state: string; n: string }>(
    'SELECT state, count(*) AS n FROM credit_reservations WHERE workspace_id = $1 GROUP BY state',
    [workspaceId],
  )
  const kinds = await query<{ kind: string; n: string }>(
    'SELECT kind, count(*) AS n FROM credit_ledger WHERE workspace_id = $1 GROUP BY kind',
    [workspaceId],
  )
  const [malformed] = await query<{ n: string }>(
    `SELECT count(*) AS n FROM credit_reservations r WHERE r.workspace_id = $1 AND (
       (SELECT count(*) FROM credit_ledger l WHERE l.reservation_id = r.id AND l.kind = 'reserve') <> 1
       OR (SELECT count(*) FROM credit_ledger l WHERE l.reservation_id = r.id
             AND l.kind IN ('settle', 'release')) <> (CASE WHEN r.state = 'held' THEN 0 ELSE 1 END))`,
    [workspaceId],
  )
  const state = (name: string) => Number(states.find((row) => row.state === name)?.n ?? 0)
  return {
    balance: unitsToCredits(Number(account?.balance ?? Number.NaN)),
    ledgerSum: unitsToCredits(Number(sum?.total ?? 0)),
    held: state('held'),
    settled: state('settled'),
    released: state('released'),
    rows: Object.fromEntries(kinds.map((row) => [row.kind, Number(row.n)])),
    malformed: Number(malformed?.n ?? Number.NaN),
  }
}
