import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Sqlite from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { restartableGateway } from '../support/gateway.ts'
import { bearer, stop } from '../support/processes.ts'

const PRICE = 16.7 // gpt-image-1, 1024x1024, quality auto
const JOBS = 50
const UPSTREAM_MS = 1_000

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

type JobRecord = { id: string; status: string; prompt: string; error?: { message: string } }

/**
 * Exactly once in effect, on real processes: a server is killed (SIGKILL) with jobs queued and
 * running against a slow upstream; the next server on the same data finishes every job, calls
 * the upstream at most once per job, charges each succeeded job once and nothing else, and
 * writes one webhook delivery per job.
 */
describe('jobs across a crash', () => {
  it(`kill -9 with ${JOBS} queued and running jobs: each finishes once and is charged once`, async () => {
    const gateway = await restartableGateway(
      {
        IMAGEGATE_JOB_CONCURRENCY: '10',
        IMAGEGATE_JOB_WORKSPACE_CONCURRENCY: '10',
        IMAGEGATE_JOB_LEASE_MS: '1500',
        IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK: 'true',
      },
      (cleanup) => cleanups.push(cleanup),
    )
    gateway.fake.setDefault({ mode: 'ok', delayMs: UPSTREAM_MS })
    const first = await gateway.start()
    const accepted: JobRecord[] = []
    for (let index = 0; index < JOBS; index++) {
      const response = await fetch(`${first.url}/v1/images/generations`, {
        method: 'POST',
        headers: {
          ...bearer(first.key),
          'content-type': 'application/json',
          prefer: 'respond-async',
        },
        // Nothing listens there: the deliveries are counted in the outbox.
        body: JSON.stringify({
          model: 'gpt-image-1',
          prompt: `job ${index}`,
          webhook_url: 'http://127.0.0.1:9/hook',
        }),
      })
      expect(response.status).toBe(202)
      accepted.push((await response.json()) as JobRecord)
    }
    // Killed mid-flight: some jobs at the upstream, some finished, most still queued.
    while (gateway.fake.calls.length < 15) {
      await sleep(20)
    }
    first.child.kill('SIGKILL')
    await first.exited

    const second = await gateway.start()
    const finals = new Map<string, JobRecord>()
    const until = Date.now() + 60_000
    while (finals.size < JOBS && Date.now() < until) {
      for (const { id } of accepted.filter((job) => !finals.has(job.id))) {
        const response = await fetch(`${second.url}/v1/generations/${id}`, {
          headers: bearer(second.key),
        })
        const record = (await response.json()) as JobRecord
        if (!['queued', 'running'].includes(record.status)) {
          finals.set(id, record)
        }
      }
      await sleep(200)
    }
    expect(finals.size).toBe(JOBS)
    await stop(second.child)

    // The upstream saw each job at most once.
    const prompts = gateway.fake.calls.map((call) => (call.body as { prompt: string }).prompt)
    expect(prompts.length).toBe(new Set(prompts).size)
    const records = [...finals.values()]
    const succeeded = records.filter((record) => record.status === 'succeeded')
    const failed = records.filter((record) => record.status === 'failed')
    expect(succeeded.length + failed.length).toBe(JOBS)
    // A job cut off by the kill after its dispatched mark (the call may or may not have left)
    // is closed, not sent again; nothing else fails.
    for (const record of failed) {
      expect(record.error?.message).toMatch(/not sent again/)
    }
    expect(failed.length).toBeLessThanOrEqual(10)
    expect(succeeded.length).toBeGreaterThanOrEqual(JOBS - 10)

    // One reservation per job, none left held; exactly the succeeded ones settled, once.
    const db = new Sqlite(path.join(gateway.dataDir, 'imagegate.db'), { readonly: true })
    try {
      const reservations = db
        .prepare(
          `SELECT reference, state, settled_amount AS settled FROM credit_reservations
           WHERE reference LIKE 'job:%'`,
        )
        .all() as { reference: string; state: string; settled: number | null }[]
      expect(reservations).toHaveLength(JOBS)
      const byJob = new Map(reservations.map((row) => [row.reference.slice(4), row]))
      for (const record of succeeded) {
        expect(byJob.get(record.id)).toMatchObject({ state: 'settled', settled: PRICE * 1000 })
      }
      for (const record of failed) {
        expect(byJob.get(record.id)).toMatchObject({ state: 'released' })
      }
      const entries = db
        .prepare(
          `SELECT kind, count(*) AS n FROM credit_ledger WHERE reference LIKE 'job:%'
           GROUP BY kind ORDER BY kind`,
        )
        .all()
      expect(entries).toEqual([
        ...(failed.length > 0 ? [{ kind: 'release', n: failed.length }] : []),
        { kind: 'reserve', n: JOBS },
        { kind: 'settle', n: succeeded.length },
      ])
      const jobs = db
        .prepare('SELECT state, count(*) AS n FROM generation_jobs GROUP BY state ORDER BY state')
        .all()
      expect(jobs).toEqual([
        ...(failed.length > 0 ? [{ state: 'failed', n: failed.length }] : []),
        { state: 'succeeded', n: succeeded.length },
      ])

      // Every job announced its end once, closed after the crash or not.
      const deliveries = db
        .prepare('SELECT generation_id AS id, event_type AS type FROM webhook_deliveries')
        .all() as { id: string; type: string }[]
      expect(deliveries).toHaveLength(JOBS)
      const announced = new Map(deliveries.map((row) => [row.id, row.type]))
      for (const record of records) {
        expect(announced.get(record.id)).toBe(`generation.${record.status}`)
      }
    } finally {
      db.close()
    }
  }, 120_000)
})
