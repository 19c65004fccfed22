import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Sqlite from 'better-sqlite3'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Receiver, startReceiver } from '../../services/api/src/webhooks/testing/receiver.ts'
import { restartableGateway } from '../support/gateway.ts'
import { bearer } from '../support/processes.ts'

// biome-ignore lint/suspicious/noExplicitAny: tests read answers and event bodies loosely
type Json = Record<string, any>

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

async function call(url: string, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...bearer(key), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as Json }
}

describe('the webhook outbox across a crash', () => {
  it('a delivery still pending when the server is killed (-9) arrives after the restart', async () => {
    let receiving = false
    const hook: Receiver = await startReceiver(() => ({ status: receiving ? 200 : 503 }))
    cleanups.push(() => hook.close())
    const gateway = await restartableGateway(
      { IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK: 'true' },
      (cleanup) => cleanups.push(cleanup),
    )
    const first = await gateway.start()
    const endpoint = await call(first.url, first.key, 'POST', '/v1/workspaces/default/webhooks', {
      url: hook.url,
      events: ['generation.succeeded'],
    })
    expect(endpoint.status).toBe(201)
    const generated = await call(first.url, first.key, 'POST', '/v1/images/generations', {
      model: 'local-sketch',
      prompt: 'survives a crash',
      size: '256x256',
    })
    expect(generated.status).toBe(200)
    // The first attempt is answered 503: the delivery waits for its retry (2.5–5 s later).
    await vi.waitFor(() => expect(hook.received).toHaveLength(1), { timeout: 10_000 })
    first.child.kill('SIGKILL')
    await first.exited

    receiving = true
    const restartedAt = Date.now()
    const second = await gateway.start()
    await vi.waitFor(() => expect(hook.received).toHaveLength(2), {
      timeout: 30_000,
      interval: 100,
    })
    const [tried, delivered] = hook.received
    expect(delivered?.at).toBeGreaterThan(restartedAt)
    expect(delivered?.headers['webhook-id']).toBe(tried?.headers['webhook-id'])
    const event = new Webhook(endpoint.body.secret).verify(
      delivered?.body as string,
      delivered?.headers as Record<string, string>,
    ) as Json
    expect(event.data.generationId).toBe(
      (await call(second.url, second.key, 'GET', '/v1/generations')).body.data[0].id,
    )
    const listed = await call(
      second.url,
      second.key,
      'GET',
      `/v1/workspaces/default/webhooks/${endpoint.body.id}/deliveries`,
    )
    expect(listed.body.data[0]).toMatchObject({ status: 'delivered' })
    expect(
      listed.body.data[0].attempts.map((row: { statusCode: number }) => row.statusCode),
    ).toEqual([503, 200])
    // Nothing more arrives: the delivered row is done.
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(hook.received).toHaveLength(2)
  }, 60_000)

  it('a final status committed but never announced before a kill -9 is announced after the restart', async () => {
    const hook: Receiver = await startReceiver(() => ({ status: 200 }))
    cleanups.push(() => hook.close())
    const gateway = await restartableGateway(
      { IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK: 'true' },
      (cleanup) => cleanups.push(cleanup),
    )
    // Calls to the upstream stay in flight until the kill.
    gateway.fake.setDefault({ mode: 'ok', delayMs: 120_000 })
    const first = await gateway.start()
    // An image to finish the job with, made before anything listens.
    const made = await call(first.url, first.key, 'POST', '/v1/images/generations', {
      model: 'local-sketch',
      prompt: 'the job its image',
      size: '256x256',
    })
    expect(made.status).toBe(200)
    const asset = await call(
      first.url,
      first.key,
      'GET',
      `/v1/assets/${made.body.data[0].asset_id}`,
    )
    const signing = await call(
      first.url,
      first.key,
      'POST',
      '/v1/workspaces/default/webhook-signing-secret',
    )
    const endpoint = await call(first.url, first.key, 'POST', '/v1/workspaces/default/webhooks', {
      url: hook.url,
      events: ['generation.succeeded', 'generation.failed'],
    })
    expect(endpoint.status).toBe(201)

    // A job at the upstream, and a synchronous generation at the upstream, when the server dies.
    const accepted = await fetch(`${first.url}/v1/images/generations`, {
      method: 'POST',
      headers: {
        ...bearer(first.key),
        'content-type': 'application/json',
        prefer: 'respond-async',
      },
      body: JSON.stringify({ model: 'gpt-image-1', prompt: 'a job', webhook_url: hook.url }),
    })
    expect(accepted.status).toBe(202)
    const job = (await accepted.json()) as Json
    const inFlight = call(first.url, first.key, 'POST', '/v1/images/generations', {
      model: 'gpt-image-1',
      prompt: 'cut short',
      webhook_url: hook.url,
    }).catch(() => undefined)
    await vi.waitFor(() => expect(gateway.fake.calls.length).toBe(2), { timeout: 10_000 })
    first.child.kill('SIGKILL')
    await first.exited
    await inFlight

    // The job's final state, committed as its worker commits it, behind the server's back; the
    // kill came before the outbox commit that would have followed.
    const finishedAt = new Date()
    const db = new Sqlite(path.join(gateway.dataDir, 'imagegate.db'))
    try {
      db.transaction(() => {
        db.prepare(
          `UPDATE generations SET status = 'succeeded', asset_ids = ?, finished_at = ? WHERE id = ?`,
        ).run(JSON.stringify([asset.body.id]), finishedAt.toISOString(), job.id)
        db.prepare(
          `UPDATE generation_jobs SET state = 'succeeded', finished_at = ?, lease_owner = NULL,
             lease_expires_at = NULL WHERE generation_id = ?`,
        ).run(finishedAt.getTime(), job.id)
      })()
      const owed = db
        .prepare(
          `SELECT id, status, announced_at FROM generations WHERE prompt IN ('a job', 'cut short')`,
        )
        .all()
      expect(owed).toHaveLength(2)
      expect(owed.every((row) => (row as Json).announced_at === null)).toBe(true)
      expect(db.prepare('SELECT count(*) AS n FROM webhook_deliveries').get()).toEqual({ n: 0 })
    } finally {
      db.close()
    }
    expect(hook.received).toHaveLength(0)

    // The restart closes the cut-short generation as failed and announces both, once each per
    // target: the endpoint and the request's own URL.
    const second = await gateway.start()
    await vi.waitFor(() => expect(hook.received).toHaveLength(4), {
      timeout: 20_000,
      interval: 100,
    })
    await sleep(1_500)
    expect(hook.received).toHaveLength(4)
    const events = hook.received.map((got) => {
      const headers = got.headers as Record<string, string>
      // Signed with the endpoint's secret or the workspace's: one of them verifies it.
      for (const secret of [endpoint.body.secret, signing.body.secret]) {
        try {
          return { secret, event: new Webhook(secret).verify(got.body as string, headers) as Json }
        } catch {}
      }
      throw new Error(`a delivery no secret verifies: ${got.body}`)
    })
    const jobEvents = events.filter(({ event }) => event.data.generationId === job.id)
    expect(jobEvents.map(({ secret }) => secret).sort()).toEqual(
      [endpoint.body.secret, signing.body.secret].sort(),
    )
    for (const { event } of jobEvents) {
      expect(event).toMatchObject({
        type: 'generation.succeeded',
        data: {
          status: 'succeeded',
          assets: [{ assetId: asset.body.id, contentHash: asset.body.contentHash }],
          error: null,
        },
      })
    }
    const cutShort = events.filter(({ event }) => event.data.generationId !== job.id)
    expect(cutShort).toHaveLength(2)
    expect(new Set(cutShort.map(({ secret }) => secret)).size).toBe(2)
    for (const { event } of cutShort) {
      expect(event).toMatchObject({
        type: 'generation.failed',
        data: { status: 'failed', error: { code: 'internal_error' } },
      })
    }
    const listed = await call(
      second.url,
      second.key,
      'GET',
      `/v1/workspaces/default/webhooks/${endpoint.body.id}/deliveries`,
    )
    expect(listed.body.data.map((row: Json) => row.status)).toEqual(['delivered', 'delivered'])
  }, 60_000)
})
