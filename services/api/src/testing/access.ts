import type Sqlite from 'better-sqlite3'
import { sqliteStoreOf } from '../db/sqlite-store.ts'
import { createLocalProvider } from '../providers/local.ts'
import {
  type GenerateImagesRequest,
  type GenerateImagesResult,
  type ImageProvider,
  UpstreamFailure,
} from '../providers/types.ts'
import { createTestApp, type TestAppOptions } from './test-app.ts'

/** `gpt-image-1` at 1024x1024, quality auto: credits per image (default-models.json). */
export const GPT_IMAGE_1_PRICE = 16.7

export type PaidProviderScript = {
  /** Wait this long before answering (a slow upstream). */
  delayMs?: number
  /** Answer with fewer images than asked for. */
  images?: (asked: number) => number
  /** Throw this instead of answering. */
  fail?: () => Error | undefined
}

/**
 * A stand-in for the `openai` adapter that renders with the local renderer (fast, real PNGs),
 * counts its calls and follows a script. Models of the openai provider cost credits.
 */
export function paidProvider(script: PaidProviderScript = {}) {
  const local = createLocalProvider()
  const calls: GenerateImagesRequest[] = []
  const concurrency = { now: 0, max: 0 }
  const provider: ImageProvider = {
    name: 'openai',
    async generate(request): Promise<GenerateImagesResult> {
      calls.push(request)
      concurrency.max = Math.max(concurrency.max, ++concurrency.now)
      try {
        if (script.delayMs) {
          await abortableDelay(script.delayMs, request.signal)
        }
      } finally {
        concurrency.now--
      }
      const failure = script.fail?.()
      if (failure) {
        throw failure
      }
      const n = script.images ? script.images(request.n) : request.n
      return local.generate({
        ...request,
        upstreamModel: 'local-sketch',
        size: { width: 64, height: 64 },
        n,
      })
    },
  }
  return { provider, calls, script, concurrency }
}

/** A wait that ends early, as a real call does, when the request's signal aborts. */
function abortableDelay(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    const aborted = () => reject(new UpstreamFailure('timeout', 'openai', 'the call was aborted'))
    if (signal.aborted) {
      aborted()
      return
    }
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        aborted()
      },
      { once: true },
    )
  })
}

const json = (body: unknown) => JSON.stringify(body)

/**
 * createTestApp with a paid provider and helpers to make workspaces and keys through the admin
 * API (as an operator would), and to read the ledger.
 */
export async function createAccessTestApp(
  options: TestAppOptions & { script?: PaidProviderScript } = {},
) {
  const { script, ...appOptions } = options
  const paid = paidProvider(script)
  const t = await createTestApp({
    ...appOptions,
    providers: { openai: paid.provider, ...appOptions.providers },
  })
  /** The durable SQLite connection, for tests that read the ledger's tables (SQLite only). */
  const sqlite = (): Sqlite.Database => sqliteStoreOf(t.deps.store).database.durable

  /** A request as `key` (default: the admin key), JSON body if given. */
  async function call(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    return t.hono.request(path, {
      method,
      headers: {
        authorization: `Bearer ${options.key ?? t.key}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: json(options.body) }),
    })
  }

  async function newWorkspace(name: string, initialCredits = 0): Promise<string> {
    const response = await call('POST', '/v1/workspaces', { body: { name, initialCredits } })
    if (response.status !== 201) {
      throw new Error(`workspace: ${response.status} ${await response.text()}`)
    }
    return ((await response.json()) as { id: string }).id
  }

  async function newKey(
    workspaceId: string,
    scopes: string[],
    rateLimits?: { requestsPerMinute?: number | null; imagesPerMinute?: number | null },
  ): Promise<string> {
    const response = await call('POST', `/v1/workspaces/${workspaceId}/keys`, {
      body: { scopes, ...(rateLimits ? { rateLimits } : {}) },
    })
    if (response.status !== 201) {
      throw new Error(`key: ${response.status} ${await response.text()}`)
    }
    return ((await response.json()) as { key: string }).key
  }

  const count = (sql: string, ...params: unknown[]) =>
    (
      sqlite()
        .prepare(sql)
        .get(...params) as { n: number }
    ).n

  return {
    ...t,
    paid,
    get sqlite() {
      return sqlite()
    },
    call,
    newWorkspace,
    newKey,
    /** Spendable credits of a workspace. */
    balance: (workspaceId: string) => t.deps.credits.balance(workspaceId),
    /** Ledger rows of a kind (`grant`, `reserve`, `settle`, `release`), in a workspace. */
    ledgerRows: (kind: string, workspaceId?: string) =>
      workspaceId === undefined
        ? count('SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = ?', kind)
        : count(
            'SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = ? AND workspace_id = ?',
            kind,
            workspaceId,
          ),
    /** Net debits: reservations settled with a charge. */
    debits: (workspaceId?: string) =>
      workspaceId === undefined
        ? count("SELECT COUNT(*) AS n FROM credit_reservations WHERE state = 'settled'")
        : count(
            "SELECT COUNT(*) AS n FROM credit_reservations WHERE state = 'settled' AND workspace_id = ?",
            workspaceId,
          ),
  }
}

export type AccessTestApp = Awaited<ReturnType<typeof createAccessTestApp>>
