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
})
