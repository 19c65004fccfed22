import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { deferred } from '../../services/api/src/testing/deferred.ts'
import { noisePng, sha256Hex } from '../../services/api/src/testing/images.ts'
import {
  type Answer,
  auditPgLedger,
  call,
  type Instance,
  type ScaledBackends,
  startScaledBackends,
  uploadForm,
} from '../support/scaled-gateways.ts'

/**
 * Faults under two instances of one deployment, on a PostgreSQL server and a redis-server of
 * this file's own (they are stopped and started here; the machine's are never touched).
 */

/** Longest a request may take while PostgreSQL is down: it must fail, not wait for it. */
const OUTAGE_ANSWER_MS = 10_000

let backends: ScaledBackends
let a: Instance
let b: Instance

beforeAll(async () => {
  backends = await startScaledBackends({ ownPostgres: true, ownRedis: true })
  ;[a, b] = await Promise.all([backends.startInstance('a'), backends.startInstance('b')])
})

afterAll(async () => {
  await backends?.close()
})

type Outcome = {
  instance: string
  kind: 'list' | 'upload' | 'generate'
  /** 0: no answer (the connection failed or the request was given up on). */
  status: number
  ms: number
  startedAt: number
  answer?: Answer
  /** Uploads: the bytes' sha256. */
  hash?: string
}

/** One request of `kind`, recorded whatever happens to it. */
async function attempt(
  instance: Instance,
  kind: Outcome['kind'],
  key: string,
  seed: string,
): Promise<Outcome> {
  const startedAt = Date.now()
  const signal = AbortSignal.timeout(30_000)
  let hash: string | undefined
  try {
    let answer: Answer
    if (kind === 'list') {
      answer = await call(instance, '/v1/assets?limit=5', { key, signal })
    } else if (kind === 'upload') {
      const bytes = await noisePng(seed, 24)
      hash = sha256Hex(bytes)
      answer = await call(instance, '/v1/assets', {
        key,
        form: uploadForm(bytes),
        headers: { 'x-content-sha256': hash },
        signal,
      })
    } else {
      answer = await call(instance, '/v1/images/generations', {
        key,
        json: { model: 'gpt-image-1', prompt: seed },
        signal,
      })
    }
    return {
      instance: instance.name,
      kind,
      status: answer.status,
      ms: answer.ms,
      startedAt,
      answer,
      ...(hash ? { hash } : {}),
    }
  } catch {
    return { instance: instance.name, kind, status: 0, ms: Date.now() - startedAt, startedAt }
  }
}

/**
 * Lanes of requests, each going round list, upload and generate on one instance, until `stop`
 * resolves (or, with `untilFailure`, until the lane's instance gives no answer).
 */
function load(
  lanes: { instance: Instance; key: string }[],
  stop: Promise<void>,
  options: { untilFailure?: boolean; kinds?: Outcome['kind'][] } = {},
) {
  const outcomes: Outcome[] = []
  let stopped = false
  void stop.then(() => {
    stopped = true
  })
  const kinds = options.kinds ?? ['list', 'upload', 'generate']
  const done = Promise.all(
    lanes.map(async ({ instance, key }, lane) => {
      for (let index = 0; !stopped; index++) {
        const kind = kinds[(index + lane) % kinds.length] as Outcome['kind']
        const outcome = await attempt(instance, kind, key, `${instance.name}-${lane}-${index}`)
        outcomes.push(outcome)
        if (options.untilFailure && outcome.status === 0) {
          return
        }
        await sleep(20)
      }
    }),
  )
  return { outcomes, done }
}

async function generateKey(credits: number) {
  const workspace = await call(a, '/v1/workspaces', {
    key: a.key,
    json: { name: `faults ${Date.now()}`, initialCredits: credits },
  })
  expect(workspace.status).toBe(201)
  const created = await call(a, `/v1/workspaces/${workspace.body?.id}/keys`, {
    key: a.key,
    json: { scopes: ['generate'] },
  })
  expect(created.status).toBe(201)
  return { workspaceId: workspace.body?.id as string, key: created.body?.key as string }
}

const succeeded = (outcome: Outcome) => outcome.status >= 200 && outcome.status < 300

describe('faults under two instances', () => {
  it('PostgreSQL stopped under load: 503 upstream_unavailable promptly, then both recover without a restart', async () => {
    const { workspaceId, key } = await generateKey(10_000)
    backends.fake.setDefault({ mode: 'ok', delayMs: 100 })
    const stopLoad = deferred()
    const running = load(
      [a, b, a, b].map((instance) => ({ instance, key })),
      stopLoad.promise,
    )
    await sleep(1000)
    const stoppedAt = Date.now()
    await backends.postgres?.stop()
    let outageFrom = 0
    let outageUntil = 0
    let readiness: Answer[] = []
    try {
      // Well into the outage: every pool's connections are gone.
      await sleep(3000)
      outageFrom = Date.now()
      await sleep(2000)
      outageUntil = Date.now()
      readiness = await Promise.all([a, b].map((instance) => call(instance, '/readyz')))
    } finally {
      // Started again whatever happened, so the next tests have a database.
      stopLoad.resolve()
      await running.done
      await backends.postgres?.start()
    }

    for (const ready of readiness) {
      expect(ready.status).toBe(503)
      expect(ready.body?.checks).toMatchObject({ database: 'failing' })
    }
    const before = running.outcomes.filter((outcome) => outcome.startedAt + outcome.ms < stoppedAt)
    const during = running.outcomes.filter(
      (outcome) => outcome.startedAt >= outageFrom && outcome.startedAt < outageUntil,
    )
    expect(before.length).toBeGreaterThan(0)
    expect(before.every(succeeded)).toBe(true)
    expect(during.length).toBeGreaterThan(4)
    for (const outcome of running.outcomes) {
      // Failed or served, never a 500 and never left hanging.
      expect(
        [200, 201, 503],
        `${outcome.kind} on ${outcome.instance}: ${JSON.stringify(outcome.answer?.body)}`,
      ).toContain(outcome.status)
      expect(outcome.ms).toBeLessThan(OUTAGE_ANSWER_MS)
    }
    for (const outcome of during) {
      expect(outcome.status, `${outcome.kind} on ${outcome.instance}`).toBe(503)
      expect(outcome.answer?.body?.error).toMatchObject({
        code: 'upstream_unavailable',
        reason: 'database_unavailable',
      })
      expect(outcome.answer?.headers.get('x-should-retry')).toBe('true')
    }
    for (const instance of [a, b]) {
      expect(instance.child.exitCode, instance.name).toBeNull()
    }

    // Back: the same processes serve again once they reconnect.
    for (const instance of [a, b]) {
      await vi.waitFor(async () => expect((await call(instance, '/readyz')).status).toBe(200), {
        timeout: 15_000,
        interval: 250,
      })
      for (const kind of ['list', 'upload', 'generate'] as const) {
        const outcome = await attempt(instance, kind, key, `${instance.name}-after-${kind}`)
        expect(outcome.status, `${kind} on ${instance.name}`).toBe(kind === 'upload' ? 201 : 200)
      }
    }
    backends.fake.setDefault('ok')
    const audit = await auditPgLedger(backends.query, workspaceId)
    expect(audit.balance).toBe(audit.ledgerSum)
    expect(audit.malformed).toBe(0)
    expect(audit.balance).toBeGreaterThanOrEqual(0)
  }, 60_000)

  it('Redis gone: each instance limits on its own (N each) and counts it, shared again once back', async () => {
    const limit = 3
    const limitedKey = async () => {
      const created = await call(a, '/v1/workspaces/default/keys', {
        key: a.key,
        json: { scopes: ['read'], rateLimits: { requestsPerMinute: limit } },
      })
      expect(created.status).toBe(201)
      return created.body?.key as string
    }
    const alternating = async (key: string, count: number) => {
      const statuses: number[] = []
      for (let index = 0; index < count; index++) {
        statuses.push((await call(index % 2 === 0 ? a : b, '/v1/models', { key })).status)
      }
      return statuses
    }
    const localDecisions = async (instance: Instance) => {
      const metrics = await call(instance, '/metrics', { key: instance.key })
      const match = /^imagegate_rate_limit_local_decisions_total (\d+)$/m.exec(
        Buffer.from(metrics.bytes).toString(),
      )
      return Number(match?.[1] ?? 0)
    }

    await backends.redis?.kill()
    const down = await limitedKey()
    // N through each instance, from each one's own bucket.
    expect(await alternating(down, 2 * limit + 2)).toEqual([
      ...Array(2 * limit).fill(200),
      429,
      429,
    ])
    for (const instance of [a, b]) {
      expect(await localDecisions(instance), instance.name).toBeGreaterThanOrEqual(limit + 1)
      const ready = await call(instance, '/readyz')
      expect(ready.status).toBe(200)
      expect(ready.body?.checks).toMatchObject({ redis: 'failing' })
    }

    await backends.redis?.start()
    for (const instance of [a, b]) {
      await vi.waitFor(
        async () =>
          expect((await call(instance, '/readyz')).body?.checks).toMatchObject({ redis: 'ok' }),
        { timeout: 10_000, interval: 200 },
      )
    }
    // Past the second of local decisions that follows the last failure.
    await sleep(1100)
    expect(await alternating(await limitedKey(), 2 * limit)).toEqual([
      ...Array(limit).fill(200),
      ...Array(limit).fill(429),
    ])
  }, 40_000)

  it('kill -9 of A during uploads and charged generations: nothing acknowledged is lost, the ledger holds, B serves throughout', async () => {
    const { workspaceId, key } = await generateKey(10_000)
    backends.fake.setDefault({ mode: 'ok', delayMs: 150 })
    const kinds: Outcome['kind'][] = ['upload', 'generate']
    const stopA = deferred()
    const stopB = deferred()
    const onA = load(
      [a, a, a].map((instance) => ({ instance, key })),
      stopA.promise,
      { untilFailure: true, kinds },
    )
    const onB = load(
      [b, b].map((instance) => ({ instance, key })),
      stopB.promise,
      { kinds },
    )
    await vi.waitFor(
      () => {
        const acknowledged = onA.outcomes.filter(succeeded)
        expect(acknowledged.filter((outcome) => outcome.kind === 'upload').length).toBeGreaterThan(
          4,
        )
        expect(
          acknowledged.filter((outcome) => outcome.kind === 'generate').length,
        ).toBeGreaterThan(2)
      },
      { timeout: 20_000, interval: 50 },
    )
    const killedAt = Date.now()
    await a.kill()
    stopA.resolve()
    await onA.done
    await sleep(1500)
    stopB.resolve()
    await onB.done
    backends.fake.setDefault('ok')

    // B answered everything, before and after the kill.
    expect(onB.outcomes.filter((outcome) => !succeeded(outcome))).toEqual([])
    expect(onB.outcomes.filter((outcome) => outcome.startedAt > killedAt).length).toBeGreaterThan(2)

    // Every acknowledged upload, through either instance, is there and intact through B.
    const acknowledged = [...onA.outcomes, ...onB.outcomes].filter(succeeded)
    for (const upload of acknowledged.filter((outcome) => outcome.kind === 'upload')) {
      const content = await call(b, `/v1/assets/${upload.answer?.body?.id}/content`, { key })
      expect(content.status).toBe(200)
      expect(sha256Hex(content.bytes)).toBe(upload.hash)
    }
    // Every acknowledged generation is recorded, and its image is there.
    const generations = acknowledged.filter((outcome) => outcome.kind === 'generate')
    for (const generation of generations) {
      const record = await call(b, `/v1/generations/${generation.answer?.body?.generation_id}`, {
        key,
      })
      expect(record.body).toMatchObject({ status: 'succeeded' })
      const image = generation.answer?.body?.data[0] as { asset_id: string; content_hash: string }
      const content = await call(b, `/v1/assets/${image.asset_id}/content`, { key })
      expect(sha256Hex(content.bytes)).toBe(image.content_hash)
    }

    // Each acknowledged generation was charged once; what A had in flight is held or settled,
    // never both; the balance is the sum of the ledger.
    const audit = await auditPgLedger(backends.query, workspaceId)
    const inFlightOnA = 3
    expect(audit.malformed).toBe(0)
    expect(audit.balance).toBe(audit.ledgerSum)
    expect(audit.settled).toBeGreaterThanOrEqual(generations.length)
    expect(audit.settled + audit.held).toBeLessThanOrEqual(generations.length + inFlightOnA)
    expect(audit.released).toBe(0)
  }, 60_000)
})
