import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { JobQueue } from '../db/jobs/job-queue.ts'
import { createPgJobQueue } from '../db/jobs/pg-job-queue.ts'
import { createSqliteJobQueue } from '../db/jobs/sqlite-job-queue.ts'
import { createPgAssetsRepository } from '../db/pg-repositories/assets.ts'
import { createPgGenerationsRepository } from '../db/pg-repositories/generations.ts'
import type { AssetsRepository, GenerationsRepository } from '../db/ports.ts'
import {
  BACKEND_START_MS,
  type BackendConnection,
  type OpenBackend,
  testBackends,
} from '../db/repositories/testing/backends.ts'
import { generationRow } from '../db/repositories/testing/generation-rows.ts'
import { createPgWebhookStore } from '../db/repositories/webhooks-pg.ts'
import { createSqliteWebhookStore } from '../db/repositories/webhooks-sqlite.ts'
import type { NewGeneration } from '../db/schema/index.ts'
import { createIdGenerator } from '../ids.ts'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import type { FinishedGeneration } from '../webhooks/events.ts'
import type { WebhookEndpoint, WebhookStore } from '../webhooks/store.ts'
import { createWebhookRecovery, type WebhookRecovery } from './webhook-recovery.ts'
import { createWebhookService, type WebhookService } from './webhooks.ts'

const MINUTE = 60_000
const silent = { info() {}, error() {} }

/** One instance's view of the database: the ports the announcement touches, on its connections. */
type Instance = {
  store: WebhookStore
  generations: GenerationsRepository
  webhooks: WebhookService
  recovery: WebhookRecovery
}

type DeliveryRow = {
  endpoint_id: string | null
  url: string
  event_type: string
  body: string
}

/**
 * The recovery of owed announcements on each backend: a finished generation whose announcement
 * was never written (a crash between its final commit and its outbox commit, or a generation
 * the interrupted-generation sweep closed) is announced by the pass exactly once, also when it
 * races the normal path or another instance's pass.
 */
describe.each(testBackends)('owed webhook announcements on $name', (backend) => {
  let database: OpenBackend
  let first: Instance
  let second: Instance
  const clock = manualClock(BACKEND_START_MS)
  const ids = createIdGenerator(clock)
  let workspace = 0
  let workspaceId: string

  function instanceOn(connection: BackendConnection): Instance {
    let store: WebhookStore
    let generations: GenerationsRepository
    let assets: AssetsRepository
    let queue: JobQueue
    if (connection.kind === 'sqlite') {
      const { database: sqlite } = connection.store
      store = createSqliteWebhookStore(sqlite.db)
      generations = connection.store.generations
      assets = connection.store.assets
      queue = createSqliteJobQueue(sqlite.durable, connection.store.ledger)
    } else {
      const { pool } = connection.postgres
      store = createPgWebhookStore(pool)
      generations = createPgGenerationsRepository(pool)
      assets = createPgAssetsRepository(pool)
      queue = createPgJobQueue(pool, { newId: () => ids('rsv') })
    }
    const webhooks = createWebhookService({
      store,
      workspaces: { exists: () => true },
      ids,
      clock,
      policy: { allowLoopback: true, resolve: async () => [] },
      newSecret: () => 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=',
      onEnqueued() {},
    })
    const recovery = createWebhookRecovery(
      {
        store,
        generationsRepo: generations,
        assetsRepo: assets,
        queue,
        announce: webhooks.announce,
        clock,
        log: silent,
      },
      { batchSize: 3, maxPerPass: 50 },
    )
    return { store, generations, webhooks, recovery }
  }

  beforeAll(async () => {
    database = await backend.open()
    first = instanceOn(database.connection)
    second = instanceOn(await database.openAnother())
  }, 60_000)
  afterAll(async () => {
    await database?.close()
  })
  beforeEach(async () => {
    workspace += 1
    workspaceId = `ws_owed${workspace}`
    await database.addWorkspaces(workspaceId)
    // Each test's generations are the only ones owed: earlier tests' are marked or too old.
    clock.advance(2 * 24 * 60 * MINUTE)
  })

  async function endpoint(events: WebhookEndpoint['events']): Promise<WebhookEndpoint> {
    const made: WebhookEndpoint = {
      id: ids('whk'),
      workspaceId,
      url: `https://hooks.example/${events.join('+')}`,
      events,
      description: null,
      secret: 'whsec_ZW5kcG9pbnRzZWNyZXRlbmRwb2ludHNlY3JldA==',
      createdAt: clock.now().toISOString(),
      disabledAt: null,
      disabledReason: null,
    }
    await first.store.createEndpoint(made)
    return made
  }

  /** A generation that ended `agoMs` before now; its announcement not written. */
  async function finished(agoMs: number, overrides: Partial<NewGeneration> = {}) {
    const id = ids('gen')
    const ended = new Date(clock.ms() - agoMs).toISOString()
    await first.generations.insert(
      generationRow(id, {
        workspaceId,
        prompt: 'owed',
        webhookUrl: 'https://caller.example/hook',
        createdAt: new Date(clock.ms() - agoMs - 5_000).toISOString(),
        finishedAt: ended,
        ...overrides,
      }),
    )
    return id
  }

  const deliveriesOf = (generationId: string) =>
    database.run<DeliveryRow>(
      'SELECT endpoint_id, url, event_type, body FROM webhook_deliveries WHERE generation_id = $1 ORDER BY url',
      [generationId],
    )

  const markOf = async (generationId: string) =>
    (await first.generations.get(workspaceId, generationId))?.announcedAt ?? null

  it('announces a finished generation whose mark is null once, to every target, and marks it', async () => {
    const all = await endpoint(['generation.succeeded', 'generation.failed'])
    await endpoint(['generation.failed'])
    const owed = await finished(MINUTE)

    expect(await first.recovery.run(0)).toBe(1)
    const deliveries = await deliveriesOf(owed)
    expect(deliveries.map((row) => [row.endpoint_id, row.url, row.event_type])).toEqual([
      [null, 'https://caller.example/hook', 'generation.succeeded'],
      [all.id, all.url, 'generation.succeeded'],
    ])
    const body = JSON.parse(deliveries[0]?.body as string)
    expect(body).toMatchObject({
      type: 'generation.succeeded',
      data: { generationId: owed, status: 'succeeded', model: 'local-sketch', error: null },
    })
    expect(await markOf(owed)).toBe(clock.now().toISOString())

    // Announced: later passes, on either instance, leave it alone.
    expect(await first.recovery.run(0)).toBe(0)
    expect(await second.recovery.run(0)).toBe(0)
    expect(await deliveriesOf(owed)).toHaveLength(2)
  })

  it('leaves alone what is marked, unfinished, owned by a running job, too old or too recent', async () => {
    await endpoint(['generation.succeeded', 'generation.failed', 'generation.cancelled'])
    const marked = await finished(MINUTE, {
      announcedAt: new Date(clock.ms() - MINUTE).toISOString(),
    })
    const running = await finished(MINUTE, { status: 'running', finishedAt: null })
    // A job's record may read failed while its job is still to be closed by the next worker.
    const ownedByJob = await finished(MINUTE, { status: 'failed' })
    await database.run(
      `INSERT INTO generation_jobs (generation_id, workspace_id, state, payload, attempts, cancel_requested, created_at)
       VALUES ($1, $2, 'running', '{}', 1, false, 0)`,
      [ownedByJob, workspaceId],
    )
    const tooOld = await finished(25 * 60 * MINUTE)
    const justNow = await finished(2_000)
    const cancelled = await finished(MINUTE, { status: 'cancelled' })

    expect(await first.recovery.run(10_000)).toBe(1)
    for (const id of [marked, running, ownedByJob, tooOld, justNow]) {
      expect(await deliveriesOf(id)).toEqual([])
    }
    expect((await deliveriesOf(cancelled)).map((row) => row.event_type)).toEqual([
      'generation.cancelled',
      'generation.cancelled',
    ])

    // Once its job has ended, the job's generation is owed like any other; so is the recent one.
    await database.run(`UPDATE generation_jobs SET state = 'failed' WHERE generation_id = $1`, [
      ownedByJob,
    ])
    expect(await first.recovery.run(0)).toBe(2)
    expect((await deliveriesOf(ownedByJob)).map((row) => row.event_type)).toEqual([
      'generation.failed',
      'generation.failed',
    ])
    expect(await deliveriesOf(justNow)).toHaveLength(2)
    expect(await deliveriesOf(tooOld)).toEqual([])
  })

  it('works a backlog off in bounded passes, in batches', async () => {
    const owed = []
    for (let index = 0; index < 7; index++) {
      owed.push(await finished(MINUTE, { webhookUrl: null }))
    }
    const bounded = createWebhookRecovery(
      {
        store: first.store,
        generationsRepo: first.generations,
        assetsRepo: { get: async () => undefined },
        queue: { get: async () => undefined },
        announce: first.webhooks.announce,
        clock,
        log: silent,
      },
      { batchSize: 2, maxPerPass: 5 },
    )
    expect(await bounded.run(0)).toBe(5)
    expect(await bounded.run(0)).toBe(2)
    expect(await bounded.run(0)).toBe(0)
    // Nothing listens: the announcement is the mark alone.
    for (const id of owed) {
      expect(await markOf(id)).not.toBeNull()
      expect(await deliveriesOf(id)).toEqual([])
    }
  })

  it('the normal announcement and the recovery racing, on two instances: one delivery per target', async () => {
    await endpoint(['generation.succeeded'])
    await endpoint(['generation.succeeded', 'generation.failed'])
    const owed: string[] = []
    for (let index = 0; index < 12; index++) {
      owed.push(await finished(MINUTE))
    }
    const normal = (id: string): FinishedGeneration => ({
      id,
      workspaceId,
      status: 'succeeded',
      operation: 'generate',
      model: 'local-sketch',
      assets: [],
      error: null,
      webhookUrl: 'https://caller.example/hook',
    })
    await Promise.all([
      ...owed.map((id) => first.webhooks.announce(normal(id))),
      ...owed.map((id) => second.webhooks.announce(normal(id))),
      first.recovery.run(0),
      second.recovery.run(0),
    ])
    for (const id of owed) {
      const deliveries = await deliveriesOf(id)
      expect(deliveries).toHaveLength(3)
      expect(new Set(deliveries.map((row) => row.endpoint_id ?? row.url)).size).toBe(3)
      expect(await markOf(id)).not.toBeNull()
    }
    expect(await first.recovery.run(0)).toBe(0)
  })

  it('a generation the normal path announced is not owed: the pass finds nothing', async () => {
    await endpoint(['generation.succeeded'])
    const id = await finished(MINUTE)
    await first.webhooks.announce({
      id,
      workspaceId,
      status: 'succeeded',
      operation: 'generate',
      model: 'local-sketch',
      assets: [],
      error: null,
      webhookUrl: 'https://caller.example/hook',
    })
    expect(await markOf(id)).not.toBeNull()
    expect(await first.recovery.run(0)).toBe(0)
    expect(await deliveriesOf(id)).toHaveLength(2)
  })

  it('an interrupted generation closed by failRunning gets one generation.failed per target', async () => {
    const failures = await endpoint(['generation.failed'])
    await endpoint(['generation.succeeded'])
    const interrupted = await finished(MINUTE, {
      status: 'running',
      finishedAt: null,
      createdAt: new Date(clock.ms() - 10 * MINUTE).toISOString(),
    })
    // The other instance's sweep closes it (on PostgreSQL, any instance's periodic sweep).
    const error = { code: 'internal_error', message: 'imagegate stopped before it finished' }
    expect(
      await second.generations.failRunning(error, clock.now().toISOString(), {
        createdBefore: new Date(clock.ms() - 5 * MINUTE).toISOString(),
      }),
    ).toBeGreaterThanOrEqual(1)

    // (The sweep may have closed an earlier test's running generation too: at least this one.)
    expect(await first.recovery.run(0)).toBeGreaterThanOrEqual(1)
    const deliveries = await deliveriesOf(interrupted)
    expect(deliveries.map((row) => [row.endpoint_id, row.event_type])).toEqual([
      [null, 'generation.failed'],
      [failures.id, 'generation.failed'],
    ])
    expect(JSON.parse(deliveries[1]?.body as string).data).toMatchObject({
      generationId: interrupted,
      status: 'failed',
      assets: [],
      error,
    })
    await Promise.all([first.recovery.run(0), second.recovery.run(0)])
    expect(await deliveriesOf(interrupted)).toHaveLength(2)
  })
})
