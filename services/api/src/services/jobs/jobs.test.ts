import { afterEach, describe, expect, it } from 'vitest'
import { UpstreamFailure } from '../../providers/types.ts'
import { type AccessTestApp, createAccessTestApp, GPT_IMAGE_1_PRICE } from '../../testing/access.ts'
import { noisePng } from '../../testing/images.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

const ASYNC = { prefer: 'respond-async' }
const paid = (prompt = 'paid', n = 1) => ({ model: 'gpt-image-1', prompt, size: '1024x1024', n })

type GenerationRecord = {
  id: string
  status: string
  assetIds: string[]
  error?: { code: string; message: string }
  skillResult?: { ok: true; result: { assetId: string; generationId: string } }
}

async function workspace(credits: number) {
  const ws = await t.newWorkspace('Jobs', credits)
  return { ws, key: await t.newKey(ws, ['generate']) }
}

async function accept(key: string, body: unknown, route = '/v1/images/generations') {
  const response = await t.call('POST', route, { key, body, headers: ASYNC })
  expect(response.status).toBe(202)
  return { response, record: (await response.json()) as GenerationRecord }
}

async function record(key: string, id: string) {
  const response = await t.call('GET', `/v1/generations/${id}`, { key })
  return { response, record: (await response.json()) as GenerationRecord }
}

/**
 * The record once its job has finished. The record's final status is written just before the
 * hold is settled or released and the job row ends, so the ledger is read after the job row.
 */
async function settled(key: string, id: string, timeoutMs = 10_000): Promise<GenerationRecord> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const job = t.sqlite
      .prepare('SELECT state FROM generation_jobs WHERE generation_id = ?')
      .get(id) as { state: string } | undefined
    if ((job && !['queued', 'running'].includes(job.state)) || Date.now() > until) {
      return (await record(key, id)).record
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const jobsEnv = (env: Record<string, string> = {}) => ({
  IMAGEGATE_JOB_LEASE_MS: '3000',
  ...env,
})

describe('asynchronous generations (Prefer: respond-async)', () => {
  it('answers 202 with the queued record, runs it, and charges it once', async () => {
    t = await createAccessTestApp({ env: jobsEnv(), script: { delayMs: 100 } })
    const { ws, key } = await workspace(100)
    const { response, record: queued } = await accept(key, paid())
    expect(queued).toMatchObject({ status: 'queued', assetIds: [] })
    expect(response.headers.get('location')).toBe(`/v1/generations/${queued.id}`)
    expect(response.headers.get('preference-applied')).toBe('respond-async')
    expect(response.headers.get('retry-after')).toBe('1')
    // The hold is taken before the 202.
    expect(t.ledgerRows('reserve', ws)).toBe(1)

    const done = await settled(key, queued.id)
    expect(done).toMatchObject({ status: 'succeeded', assetIds: [expect.any(String)] })
    expect(t.paid.calls).toHaveLength(1)
    expect([t.ledgerRows('reserve', ws), t.ledgerRows('settle', ws), t.debits(ws)]).toEqual([
      1, 1, 1,
    ])
    expect(await t.balance(ws)).toBeCloseTo(100 - GPT_IMAGE_1_PRICE, 6)
    const asset = await t.call('GET', `/v1/assets/${done.assetIds[0]}`, { key })
    expect(asset.status).toBe(200)
    const { response: final } = await record(key, queued.id)
    expect(final.headers.get('retry-after')).toBeNull()
  })

  it('shows running while the provider works', async () => {
    t = await createAccessTestApp({ env: jobsEnv(), script: { delayMs: 400 } })
    const { key } = await workspace(100)
    const { record: queued } = await accept(key, paid())
    await new Promise((resolve) => setTimeout(resolve, 150))
    const { response, record: running } = await record(key, queued.id)
    expect(running.status).toBe('running')
    expect(response.headers.get('retry-after')).toBe('1')
    expect((await settled(key, queued.id)).status).toBe('succeeded')
  })

  it('answers a skill job with the skill envelope on its record', async () => {
    t = await createAccessTestApp({ env: jobsEnv() })
    const { key } = await workspace(100)
    const { record: queued } = await accept(
      key,
      { prompt: 'a skill job', model: 'gpt-image-1' },
      '/v1/skills/image-generate',
    )
    const done = await settled(key, queued.id)
    expect(done.status).toBe('succeeded')
    expect(done.skillResult).toMatchObject({
      ok: true,
      result: { assetId: done.assetIds[0], generationId: queued.id },
      contentBlocks: [{ kind: 'image', assetId: done.assetIds[0] }],
    })
  })

  it('shows the error of a failed job and releases its hold', async () => {
    t = await createAccessTestApp({
      env: jobsEnv(),
      script: { fail: () => new UpstreamFailure('auth', 'openai', 'upstream key revoked') },
    })
    const { ws, key } = await workspace(100)
    const { record: queued } = await accept(key, paid())
    const done = await settled(key, queued.id)
    expect(done).toMatchObject({ status: 'failed', error: { code: 'upstream_error' } })
    expect(await t.balance(ws)).toBe(100)
    expect([t.ledgerRows('release', ws), t.debits(ws)]).toEqual([1, 0])
  })

  it('refuses at once when the credits do not cover the hold (402), queueing nothing', async () => {
    t = await createAccessTestApp({ env: jobsEnv() })
    const { key } = await workspace(10)
    const response = await t.call('POST', '/v1/images/generations', {
      key,
      body: paid(),
      headers: ASYNC,
    })
    expect(response.status).toBe(402)
    expect(await t.deps.jobs.worker.active).toBe(0)
    expect(t.sqlite.prepare('SELECT count(*) AS n FROM generation_jobs').get()).toEqual({ n: 0 })
  })

  it('stores the uploads of an edit before the 202, so the job needs nothing of the request', async () => {
    t = await createAccessTestApp({ env: jobsEnv() })
    const { key } = await workspace(100)
    const form = new FormData()
    form.set('prompt', 'make it blue')
    form.set('model', 'gpt-image-1')
    form.set(
      'image',
      new Blob([new Uint8Array(await noisePng('edit input', 64))], { type: 'image/png' }),
      'in.png',
    )
    const response = await t.hono.request('/v1/images/edits', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...ASYNC },
      body: form,
    })
    expect(response.status).toBe(202)
    const queued = (await response.json()) as GenerationRecord & { inputAssetIds: string[] }
    expect(queued.inputAssetIds).toHaveLength(1)
    const upload = await t.call('GET', `/v1/assets/${queued.inputAssetIds[0]}`, { key })
    expect(upload.status).toBe(200)
    expect((await settled(key, queued.id)).status).toBe('succeeded')
    expect(t.paid.calls[0]?.inputs).toHaveLength(1)
  })
})

describe('cancelling a job', () => {
  const cancel = (key: string, id: string) =>
    t.call('POST', `/v1/generations/${id}/cancel`, { key })

  it('cancels a queued job: nothing is called, the hold goes back', async () => {
    t = await createAccessTestApp({
      env: jobsEnv({ IMAGEGATE_JOB_CONCURRENCY: '1' }),
      script: { delayMs: 300 },
    })
    const { ws, key } = await workspace(100)
    const { record: first } = await accept(key, paid('first'))
    const { record: second } = await accept(key, paid('second'))
    const response = await cancel(key, second.id)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ id: second.id, status: 'cancelled' })
    expect((await settled(key, first.id)).status).toBe('succeeded')
    expect((await record(key, second.id)).record.status).toBe('cancelled')
    expect(t.paid.calls.map((call) => call.prompt)).toEqual(['first'])
    expect([t.ledgerRows('reserve', ws), t.ledgerRows('release', ws), t.debits(ws)]).toEqual([
      2, 1, 1,
    ])
    expect(await t.balance(ws)).toBeCloseTo(100 - GPT_IMAGE_1_PRICE, 6)
  })

  it('cancels a running job by aborting its provider call; nothing is charged', async () => {
    t = await createAccessTestApp({ env: jobsEnv(), script: { delayMs: 10_000 } })
    const { ws, key } = await workspace(100)
    const { record: queued } = await accept(key, paid())
    while (t.paid.calls.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const started = Date.now()
    const response = await cancel(key, queued.id)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await response.json()).toMatchObject({ status: 'cancelled' })
    expect(t.paid.concurrency.now).toBe(0)
    expect(await t.balance(ws)).toBe(100)
    expect(t.debits(ws)).toBe(0)
    expect(t.sqlite.prepare('SELECT state FROM generation_jobs').get()).toEqual({
      state: 'cancelled',
    })
  })

  it('answers 409 generation_not_cancellable for a finished job and a synchronous generation', async () => {
    t = await createAccessTestApp({ env: jobsEnv() })
    const { key } = await workspace(100)
    const { record: queued } = await accept(key, paid())
    await settled(key, queued.id)
    const finished = await cancel(key, queued.id)
    expect(finished.status).toBe(409)
    expect(await finished.json()).toMatchObject({
      error: { code: 'generation_not_cancellable', message: expect.stringContaining('succeeded') },
    })
    const sync = await t.call('POST', '/v1/images/generations', { key, body: paid() })
    const { generation_id: syncId } = (await sync.json()) as { generation_id: string }
    expect((await cancel(key, syncId)).status).toBe(409)
    expect((await cancel(key, 'gen_unknown')).status).toBe(404)
  })
})

describe('job concurrency', () => {
  it('runs at most IMAGEGATE_JOB_WORKSPACE_CONCURRENCY jobs of one workspace at once', async () => {
    t = await createAccessTestApp({
      env: jobsEnv({ IMAGEGATE_JOB_CONCURRENCY: '8', IMAGEGATE_JOB_WORKSPACE_CONCURRENCY: '2' }),
      script: { delayMs: 150 },
    })
    const { key } = await workspace(1000)
    const { key: otherKey } = await workspace(1000)
    const ids = []
    for (let index = 0; index < 6; index++) {
      ids.push((await accept(key, paid(`a${index}`))).record.id)
    }
    const other = (await accept(otherKey, paid('b'))).record.id
    // The other workspace is not held up behind the first one's queue.
    expect((await settled(otherKey, other)).status).toBe('succeeded')
    expect(t.paid.calls.length).toBeLessThan(7)
    for (const id of ids) {
      expect((await settled(key, id)).status).toBe('succeeded')
    }
    expect(t.paid.concurrency.max).toBe(3)
  })
})

describe('webhooks of a job: one delivery for each end', () => {
  // Nothing listens there: the deliveries are counted in the outbox, not received.
  const HOOK = 'http://127.0.0.1:9/hook'
  const hooked = (prompt: string) => ({ ...paid(prompt), webhook_url: HOOK })
  const cancel = (key: string, id: string) =>
    t.call('POST', `/v1/generations/${id}/cancel`, { key })
  const deliveries = (generationId: string) =>
    (
      t.sqlite
        .prepare('SELECT event_type, body FROM webhook_deliveries WHERE generation_id = ?')
        .all(generationId) as { event_type: string; body: string }[]
    ).map((row) => ({ type: row.event_type, data: JSON.parse(row.body).data }))
  const webhookEnv = (env: Record<string, string> = {}) =>
    jobsEnv({ IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK: 'true', ...env })

  it('a job that succeeds: generation.succeeded with its asset', async () => {
    t = await createAccessTestApp({ env: webhookEnv() })
    const { key } = await workspace(100)
    const { record: queued } = await accept(key, hooked('done'))
    const done = await settled(key, queued.id)
    expect(done.status).toBe('succeeded')
    await expect.poll(() => deliveries(queued.id).length).toBe(1)
    expect(deliveries(queued.id)).toEqual([
      {
        type: 'generation.succeeded',
        data: expect.objectContaining({
          generationId: queued.id,
          status: 'succeeded',
          assets: [expect.objectContaining({ assetId: done.assetIds[0] })],
          error: null,
        }),
      },
    ])
  })

  it('a job cancelled while queued: one generation.cancelled', async () => {
    t = await createAccessTestApp({
      env: webhookEnv({ IMAGEGATE_JOB_CONCURRENCY: '1' }),
      script: { delayMs: 300 },
    })
    const { key } = await workspace(100)
    const { record: first } = await accept(key, hooked('first'))
    const { record: second } = await accept(key, hooked('second'))
    expect((await cancel(key, second.id)).status).toBe(200)
    expect((await settled(key, first.id)).status).toBe('succeeded')
    await expect.poll(() => deliveries(first.id).length).toBe(1)
    expect(deliveries(second.id)).toEqual([
      {
        type: 'generation.cancelled',
        data: expect.objectContaining({ status: 'cancelled', assets: [], error: null }),
      },
    ])
  })

  it('a job cancelled while running: one generation.cancelled, not a failure', async () => {
    t = await createAccessTestApp({ env: webhookEnv(), script: { delayMs: 10_000 } })
    const { key } = await workspace(100)
    const { record: queued } = await accept(key, hooked('slow'))
    while (t.paid.calls.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(await (await cancel(key, queued.id)).json()).toMatchObject({ status: 'cancelled' })
    await expect.poll(() => deliveries(queued.id).length).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(deliveries(queued.id)).toEqual([
      {
        type: 'generation.cancelled',
        data: expect.objectContaining({ status: 'cancelled', error: null }),
      },
    ])
  })

  it('a job closed after its worker lost it mid-call: one generation.failed, from the closer', async () => {
    t = await createAccessTestApp({ env: webhookEnv(), script: { delayMs: 10_000 } })
    const { key } = await workspace(100)
    const { record: queued } = await accept(key, hooked('cut off'))
    while (t.paid.calls.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    // As if its worker had died after the dispatched mark: another owner, a lease run out.
    // The worker here loses the lease at its next renewal and stops; the job is claimed again
    // and closed, not sent again.
    t.sqlite
      .prepare(
        `UPDATE generation_jobs SET lease_owner = 'wrk_dead', lease_expires_at = 0
         WHERE generation_id = ?`,
      )
      .run(queued.id)
    const done = await settled(key, queued.id)
    expect(done).toMatchObject({
      status: 'failed',
      error: { message: expect.stringMatching(/not sent again/) },
    })
    await expect.poll(() => deliveries(queued.id).length).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(deliveries(queued.id)).toEqual([
      {
        type: 'generation.failed',
        data: expect.objectContaining({ status: 'failed', assets: [] }),
      },
    ])
    expect(t.paid.calls).toHaveLength(1)
  })
})
