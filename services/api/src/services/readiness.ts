import type { Redis } from 'ioredis'
import type { Store } from '../db/store.ts'
import type { BlobStore } from '../storage/blob-store.ts'

/**
 * One backend /readyz looks at: a name the answer reports it under, and a check that throws
 * (or rejects) when the backend cannot be used right now. Each configured backend adds one.
 */
export type ReadinessProbe = {
  name: string
  /** What it looks at, for the start-up check's message (a path, a bucket and endpoint…). */
  target?: string
  /**
   * False for a backend the instance can serve without (reported, not needed to be ready).
   * Default true.
   */
  required?: boolean
  check(): void | Promise<void>
}

export type ProbeOutcome = { name: string; required: boolean } & (
  | { ok: true }
  | { ok: false; error: unknown }
)

/** A probe that has not answered by then counts as failing: /readyz must not hang with it. */
export const PROBE_TIMEOUT_MS = 2000

export class ProbeTimeoutError extends Error {
  override name = 'ProbeTimeoutError'
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
  }
}

async function runProbe(probe: ReadinessProbe, timeoutMs: number): Promise<ProbeOutcome> {
  const required = probe.required ?? true
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeoutError(timeoutMs)), timeoutMs)
  })
  try {
    await Promise.race([Promise.resolve().then(() => probe.check()), late])
    return { name: probe.name, required, ok: true }
  } catch (error) {
    return { name: probe.name, required, ok: false, error }
  } finally {
    clearTimeout(timer)
  }
}

/** Every probe at once, each bounded by `timeoutMs`; outcomes in the probes' order. */
export function runProbes(
  probes: readonly ReadinessProbe[],
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ProbeOutcome[]> {
  return Promise.all(probes.map((probe) => runProbe(probe, timeoutMs)))
}

export function databaseProbe(store: Store): ReadinessProbe {
  return { name: 'database', check: () => store.check() }
}

/** The file-system store's directory, or a HEAD of the S3 bucket. */
export function blobStoreProbe(blobs: BlobStore, target: string): ReadinessProbe {
  return { name: 'blobStore', target, check: () => blobs.probe() }
}

/** Backends that failed the start-up check, one line each. */
export class BackendsUnavailableError extends Error {
  override name = 'BackendsUnavailableError'
  constructor(readonly problems: string[]) {
    super(`A backend is unavailable:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
  }
}

/**
 * Every probe once, before serving: an unreachable bucket or database fails the start with one
 * message naming it, rather than the first request that needs it.
 */
export async function checkBackendsAtStart(
  probes: readonly ReadinessProbe[],
  timeoutMs: number,
): Promise<void> {
  const failed = (await runProbes(probes, timeoutMs)).filter((outcome) => !outcome.ok)
  if (failed.length > 0) {
    throw new BackendsUnavailableError(
      failed.map((outcome) => {
        const probe = probes.find((candidate) => candidate.name === outcome.name)
        const where = probe?.target === undefined ? '' : ` (${probe.target})`
        const error = 'error' in outcome ? outcome.error : undefined
        return `${outcome.name}${where}: ${error instanceof Error ? error.message : String(error)}`
      }),
    )
  }
}

/**
 * A PING, which fails at once while disconnected, else after the command timeout. Reported, not
 * required: while Redis is down each instance enforces the limits by itself
 * (access/fallback-gcra-store.ts), so it can still serve.
 */
export function redisProbe(redis: Redis): ReadinessProbe {
  return {
    name: 'redis',
    required: false,
    async check() {
      await redis.ping()
    },
  }
}
