import { afterEach, describe, expect, it } from 'vitest'
import { generationRow } from './db/repositories/testing/generation-rows.ts'
import { manualClock } from './providers/resilience/testing/manual-clock.ts'
import { noisePng, uploadRequest } from './testing/assets.ts'
import { queryDatabase } from './testing/postgres.ts'
import { createTestApp, type TestApp } from './testing/test-app.ts'

/**
 * Two instances of one deployment in one process: each its own deps (caches, pools, workers)
 * on one PostgreSQL database. What one instance keeps for itself must not outlive a change made
 * through the other. The multi-process tests are in test/e2e/scale-out*.e2e.test.ts.
 */
const apps: TestApp[] = []
afterEach(async () => {
  // The second first: the first one drops the database.
  for (const app of apps.splice(0).reverse()) {
    await app.close()
  }
})

async function twoInstances() {
  const clock = manualClock(Date.parse('2031-03-01T12:00:00Z'))
  const a = await createTestApp({ database: 'postgres', clock })
  apps.push(a)
  // One blob store as well, as instances share a bucket.
  const b = await createTestApp({ database: { sharedWith: a }, clock, blobs: a.deps.blobs })
  apps.push(b)
  return { a, b, clock }
}

const authorized = (key: string) => ({ authorization: `Bearer ${key}` })

describe('two instances on one PostgreSQL database', () => {
  it('bootstraps once: the second instance finds the first one’s admin key', async () => {
    const { a, b } = await twoInstances()
    expect(a.deps.bootstrap).toBeDefined()
    expect(b.deps.bootstrap).toBeUndefined()
    expect(await b.deps.apiKeys.countActiveAdmins()).toBe(1)
  })

  it('a key revoked through one instance is refused by the other within 5 s', async () => {
    const { a, b, clock } = await twoInstances()
    const created = await a.app.request('/v1/workspaces/default/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['read'] }),
    })
    expect(created.status).toBe(201)
    const { key, id } = (await created.json()) as { key: string; id: string }
    expect((await b.app.request('/v1/assets', { headers: authorized(key) })).status).toBe(200)

    const revoked = await a.app.request(`/v1/keys/${id}`, { method: 'DELETE' })
    expect(revoked.status).toBe(204)
    expect((await a.app.request('/v1/assets', { headers: authorized(key) })).status).toBe(401)
    clock.advance(5_001)
    expect((await b.app.request('/v1/assets', { headers: authorized(key) })).status).toBe(401)
  })

  it('an asset deleted through one instance is gone on the other at once', async () => {
    const { a, b } = await twoInstances()
    const uploaded = await a.app.request(uploadRequest(await noisePng('shared asset', 24)))
    expect(uploaded.status).toBe(201)
    const { id } = (await uploaded.json()) as { id: string }
    expect((await b.app.request(`/v1/assets/${id}`)).status).toBe(200)
    expect((await b.app.request(`/v1/assets/${id}/content`)).status).toBe(200)

    expect((await a.app.request(`/v1/assets/${id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await b.app.request(`/v1/assets/${id}`)).status).toBe(404)
    expect((await b.app.request(`/v1/assets/${id}/content`)).status).toBe(404)
  })

  it('a blob pinned on one instance is pinned for the other’s garbage collector', async () => {
    const { a, b } = await twoInstances()
    const digest = 'ab'.repeat(32)
    const release = await a.deps.store.pins.pin(digest)
    expect(await b.deps.store.pins.count(digest)).toBe(1)
    await release()
    expect(await b.deps.store.pins.count(digest)).toBe(0)
  })

  it('a start marks only generations too old to be running anywhere as interrupted', async () => {
    const { a, b, clock } = await twoInstances()
    const running = (id: string, createdAt: string) =>
      generationRow(id, { status: 'running', createdAt })
    const now = clock.now().getTime()
    const live = await a.deps.store.generations.insert(
      running('gen_01JQ0000000000000000000001', new Date(now - 1_000).toISOString()),
    )
    const abandoned = await a.deps.store.generations.insert(
      running(
        'gen_01JQ0000000000000000000002',
        new Date(now - b.deps.idempotencyLeaseMs - 1_000).toISOString(),
      ),
    )
    expect(await b.deps.failInterruptedGenerations('start-up')).toBe(1)
    expect(await b.deps.failInterruptedGenerations('shutdown')).toBe(0)
    expect((await a.deps.store.generations.get('default', live.id))?.status).toBe('running')
    expect((await a.deps.store.generations.get('default', abandoned.id))?.status).toBe('failed')
  })

  it('a job accepted by one instance is run once and seen finished through the other', async () => {
    const { a, b } = await twoInstances()
    const accepted = await a.app.request('/v1/images/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({
        model: 'local-sketch',
        prompt: 'a queued lighthouse',
        size: '256x256',
      }),
    })
    expect(accepted.status).toBe(202)
    const { id } = (await accepted.json()) as { id: string }
    let status = 'queued'
    let record: { status: string; asset_ids?: string[]; assetIds?: string[] } | undefined
    for (
      let waited = 0;
      waited < 20_000 && !['succeeded', 'failed'].includes(status);
      waited += 50
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      record = (await (await b.app.request(`/v1/generations/${id}`)).json()) as typeof record
      status = record?.status ?? 'missing'
    }
    expect(status).toBe('succeeded')
    const jobs = await queryDatabase<{ state: string }>(
      a.config.databaseUrl ?? '',
      'SELECT state FROM generation_jobs',
    )
    expect(jobs).toEqual([{ state: 'succeeded' }])
  })
})
