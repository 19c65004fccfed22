import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { UpstreamFailure } from '../../providers/types.ts'
import { type AccessTestApp, createAccessTestApp } from '../../testing/access.ts'
import { type Receiver, startReceiver } from '../../webhooks/testing/receiver.ts'

// biome-ignore lint/suspicious/noExplicitAny: tests read answers and event bodies loosely
type Json = Record<string, any>

let t: AccessTestApp
let hook: Receiver
afterEach(async () => {
  await hook?.close()
  await t?.close()
})

/** Names ending in .internal resolve to a private address, every other name to loopback. */
const resolve = async (name: string) => [
  { address: name.endsWith('.internal') ? '10.20.30.40' : '127.0.0.1', family: 4 as const },
]

async function setUp(options: Parameters<typeof createAccessTestApp>[0] = {}) {
  hook = await startReceiver()
  t = await createAccessTestApp({
    env: { IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK: 'true' },
    webhookResolve: resolve,
    ...options,
  })
}

async function register(body: Record<string, unknown>, workspace = 'default') {
  const response = await t.call('POST', `/v1/workspaces/${workspace}/webhooks`, { body })
  return { status: response.status, body: (await response.json()) as Json }
}

const verified = (secret: string, index = 0) => {
  const got = hook.received[index]
  return new Webhook(secret).verify(
    got?.body as string,
    got?.headers as Record<string, string>,
  ) as Json
}

describe('webhook endpoints', () => {
  it('registers with a secret shown once, lists without it, deletes', async () => {
    await setUp()
    const created = await register({
      url: hook.url,
      events: ['generation.succeeded'],
      description: 'render pipeline',
    })
    expect(created.status).toBe(201)
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(created.body).toMatchObject({ url: hook.url, events: ['generation.succeeded'] })
    const listed = await t.call('GET', '/v1/workspaces/default/webhooks')
    const { data } = (await listed.json()) as { data: Record<string, unknown>[] }
    expect(data).toHaveLength(1)
    expect(data[0]).not.toHaveProperty('secret')
    const removed = await t.call('DELETE', `/v1/workspaces/default/webhooks/${created.body.id}`)
    expect(removed.status).toBe(204)
    const again = await t.call('DELETE', `/v1/workspaces/default/webhooks/${created.body.id}`)
    expect(again.status).toBe(404)
  })

  it('refuses unsafe URLs with 400 unsafe_webhook_url, naming the field', async () => {
    await setUp({ env: {} })
    for (const url of [
      'http://example.com/hook',
      'https://10.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00:ec2::254]/',
      'https://127.0.0.1/hook',
      'https://hooks.internal/hook',
      'https://user:pw@example.com/',
    ]) {
      const refused = await register({ url, events: ['generation.failed'] })
      expect(refused.status, url).toBe(400)
      expect(refused.body.error).toMatchObject({ code: 'unsafe_webhook_url', param: 'url' })
    }
    expect((await register({ url: hook.url, events: [] })).status).toBe(400)
    expect((await register({ url: hook.url, events: ['image.created'] })).status).toBe(400)
    expect(
      (await register({ url: hook.url, events: ['generation.failed'] }, 'ws_none')).status,
    ).toBe(404)
  })

  it('needs the admin scope', async () => {
    await setUp()
    const key = await t.newKey('default', ['generate'])
    const response = await t.call('GET', '/v1/workspaces/default/webhooks', { key })
    expect(response.status).toBe(403)
  })
})

describe('deliveries', () => {
  it('a generation is announced to the endpoint: a small signed body referencing its assets', async () => {
    await setUp()
    const { body: endpoint } = await register({
      url: hook.url,
      events: ['generation.succeeded', 'generation.failed'],
    })
    const generated = await t.call('POST', '/v1/images/generations', {
      body: { model: 'local-sketch', prompt: 'a lighthouse', size: '256x256', n: 2 },
    })
    expect(generated.status).toBe(200)
    // The delivery was written before the answer was sent.
    expect(await t.deps.webhookDispatcher.runDue()).toBe(1)
    const event = verified(endpoint.secret)
    expect(event.type).toBe('generation.succeeded')
    expect(Date.parse(event.timestamp)).not.toBeNaN()
    expect(event.data).toMatchObject({ status: 'succeeded', operation: 'generate', error: null })
    const records = (await (await t.call('GET', '/v1/generations')).json()) as {
      data: { id: string; assetIds: string[] }[]
    }
    expect(event.data.generationId).toBe(records.data[0]?.id)
    expect(event.data.assets).toHaveLength(2)
    for (const asset of event.data.assets) {
      expect(asset).toEqual({
        assetId: expect.stringMatching(/^ast_/),
        contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        cdnUrl: `/v1/assets/${asset.assetId}/content`,
      })
    }
    // Never the image bytes.
    expect(hook.received[0]?.body.length).toBeLessThan(1024)

    const deliveries = await t.call(
      'GET',
      `/v1/workspaces/default/webhooks/${endpoint.id}/deliveries?limit=1`,
    )
    const page = (await deliveries.json()) as Json
    expect(page.hasMore).toBe(false)
    expect(page.data[0]).toMatchObject({
      id: hook.received[0]?.headers['webhook-id'],
      status: 'delivered',
      eventType: 'generation.succeeded',
      attempts: [{ attempt: 1, statusCode: 200, error: null }],
    })
  })

  it('pages the deliveries listing by cursor', async () => {
    await setUp()
    const { body: endpoint } = await register({ url: hook.url, events: ['generation.succeeded'] })
    for (const prompt of ['one', 'two', 'three']) {
      await t.call('POST', '/v1/images/generations', {
        body: { model: 'local-sketch', prompt, size: '256x256' },
      })
    }
    const seen: string[] = []
    let cursor = ''
    for (;;) {
      const response = await t.call(
        'GET',
        `/v1/workspaces/default/webhooks/${endpoint.id}/deliveries?limit=2${cursor}`,
      )
      const page = (await response.json()) as Json
      seen.push(...page.data.map((row: { id: string }) => row.id))
      if (!page.hasMore) {
        break
      }
      cursor = `&cursor=${page.nextCursor}`
    }
    expect(seen).toHaveLength(3)
    expect([...seen].sort().reverse()).toEqual(seen)
    const bad = await t.call(
      'GET',
      `/v1/workspaces/default/webhooks/${endpoint.id}/deliveries?cursor=nope`,
    )
    expect(bad.status).toBe(400)
  })

  it('a failed generation is announced as generation.failed with its error', async () => {
    await setUp({
      script: { fail: () => new UpstreamFailure('auth', 'openai', 'upstream key revoked') },
    })
    const { body: endpoint } = await register({ url: hook.url, events: ['generation.failed'] })
    const failed = await t.call('POST', '/v1/images/generations', {
      body: { model: 'gpt-image-1', prompt: 'x', size: '1024x1024' },
    })
    expect(failed.status).toBeGreaterThanOrEqual(500)
    await t.deps.webhookDispatcher.runDue()
    const event = verified(endpoint.secret)
    expect(event.type).toBe('generation.failed')
    expect(event.data).toMatchObject({ status: 'failed', assets: [] })
    expect(event.data.error.code).toMatch(/^upstream_/)
  })

  it('410 Gone disables the endpoint, as the listing shows', async () => {
    await setUp()
    await hook.close()
    hook = await startReceiver(() => ({ status: 410 }))
    const { body: endpoint } = await register({ url: hook.url, events: ['generation.succeeded'] })
    await t.call('POST', '/v1/images/generations', {
      body: { model: 'local-sketch', prompt: 'gone', size: '256x256' },
    })
    await t.deps.webhookDispatcher.runDue()
    const listed = (await (await t.call('GET', '/v1/workspaces/default/webhooks')).json()) as {
      data: Record<string, unknown>[]
    }
    expect(listed.data[0]).toMatchObject({
      id: endpoint.id,
      disabledReason: expect.stringMatching(/410/),
    })
    await t.call('POST', '/v1/images/generations', {
      body: { model: 'local-sketch', prompt: 'after', size: '256x256' },
    })
    expect(await t.deps.webhookDispatcher.runDue()).toBe(0)
    expect(hook.received).toHaveLength(1)
  })
})

describe("a request's own webhook_url", () => {
  it('generations, edits and the skill each announce to it, signed with the workspace secret', async () => {
    await setUp()
    const rotated = await t.call('POST', '/v1/workspaces/default/webhook-signing-secret')
    expect(rotated.status).toBe(200)
    const { secret } = (await rotated.json()) as { secret: string }
    expect(secret).toMatch(/^whsec_/)

    const generated = await t.call('POST', '/v1/images/generations', {
      body: { model: 'local-sketch', prompt: 'g', size: '256x256', webhook_url: hook.url },
    })
    expect(generated.status).toBe(200)
    const skill = await t.call('POST', '/v1/skills/image-generate', {
      body: { model: 'local-sketch', prompt: 's', size: '1024x1024', webhookUrl: hook.url },
    })
    expect(skill.status).toBe(200)
    const { result } = (await skill.json()) as { result: { assetId: string } }
    const form = new FormData()
    form.set('prompt', 'e')
    form.set('model', 'gpt-image-1')
    form.set('image_asset_ids', result.assetId)
    form.set('webhook_url', hook.url)
    const edited = await t.hono.request('/v1/images/edits', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}` },
      body: form,
    })
    expect(edited.status).toBe(200)

    await t.deps.webhookDispatcher.runDue()
    expect(hook.received).toHaveLength(3)
    const operations = hook.received.map((_, index) => verified(secret, index).data.operation)
    expect(operations.sort()).toEqual(['edit', 'generate', 'skill'])
  })

  it('an unsafe webhook_url is refused before anything is spent', async () => {
    await setUp()
    const before = await t.balance('default')
    const refused = await t.call('POST', '/v1/images/generations', {
      body: { model: 'gpt-image-1', prompt: 'x', webhook_url: 'https://hooks.internal/x' },
    })
    expect(refused.status).toBe(400)
    const { error } = (await refused.json()) as { error: Record<string, unknown> }
    expect(error).toMatchObject({ code: 'unsafe_webhook_url', param: 'webhook_url' })
    const skill = await t.call('POST', '/v1/skills/image-generate', {
      body: { prompt: 'x', webhookUrl: 'ftp://example.com/' },
    })
    expect(((await skill.json()) as { error: { param: string } }).error.param).toBe('webhookUrl')
    expect(await t.balance('default')).toBe(before)
    expect(t.paid.calls).toHaveLength(0)
  })
})
