import { ImagegateError } from '@imagegate/client'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { connectRedis } from '../../access/redis-client.ts'
import { deleteKeysUnder, startOwnRedisServer, uniqueKeyPrefix } from '../../testing/redis.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

describe('system routes', () => {
  let t: TestApp
  afterEach(async () => {
    await t.close()
  })

  it('GET /healthz answers ok with a request id', async () => {
    t = await createTestApp()
    const { data, response } = await t.client.GET('/healthz')
    expect(data).toEqual({ status: 'ok' })
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9A-Z]{26}$/)
  })

  it('keeps a caller-supplied x-request-id and logs it on the request line', async () => {
    t = await createTestApp()
    const res = await t.app.request('/healthz', { headers: { 'x-request-id': 'trace-abc-123' } })
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123')
    const line = t.logLines.find((entry) => entry.msg === 'request')
    expect(line).toMatchObject({ requestId: 'trace-abc-123', path: '/healthz', status: 200 })
  })

  it('GET /readyz checks the database, the data dir and the blob store', async () => {
    t = await createTestApp()
    const { data } = await t.client.GET('/readyz')
    expect(data).toEqual({
      status: 'ready',
      checks: { database: 'ok', dataDir: 'ok', blobStore: 'ok' },
    })
  })

  it('GET /readyz answers 503 when the database is closed', async () => {
    t = await createTestApp()
    await t.deps.store.close()
    const error = await t.client.GET('/readyz').catch((err: unknown) => err)
    expect(error).toBeInstanceOf(ImagegateError)
    expect((error as ImagegateError).status).toBe(503)
    expect((error as ImagegateError).body).toEqual({
      status: 'not_ready',
      checks: { database: 'failing', dataDir: 'ok', blobStore: 'ok' },
    })
  })

  it('GET /readyz answers 503 naming the blob store when it cannot be used', async () => {
    t = await createTestApp()
    vi.spyOn(t.deps.blobs, 'probe').mockRejectedValue(
      new Error('The object store cannot be reached'),
    )
    const response = await t.app.request('/readyz')
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({
      status: 'not_ready',
      checks: { database: 'ok', dataDir: 'ok', blobStore: 'failing' },
    })
    expect(t.logLines.find((line) => line.msg === 'readiness check failed')).toMatchObject({
      backend: 'blobStore',
    })
  })

  it('GET /readyz reports Redis without depending on it; while it is down, limits are local and counted', async () => {
    const server = await startOwnRedisServer()
    try {
      const keyPrefix = uniqueKeyPrefix()
      t = await createTestApp({
        env: {
          IMAGEGATE_REDIS_URL: server.url,
          IMAGEGATE_REDIS_KEY_PREFIX: keyPrefix,
          // A key's request is held for 1 s; the workspace's (a million a minute) for 1 ms.
          IMAGEGATE_KEY_REQUESTS_PER_MINUTE: '60',
        },
      })
      const redis = t.deps.redis as Redis
      await connectRedis(redis)
      expect((await t.client.GET('/readyz')).data).toEqual({
        status: 'ready',
        checks: { database: 'ok', dataDir: 'ok', blobStore: 'ok', redis: 'ok' },
      })
      expect((await t.app.request('/v1/models')).status).toBe(200)
      expect(await redis.keys(`${keyPrefix}*`)).toEqual([
        expect.stringMatching(/^imagegate-test:\w+:requests:key:key_/),
      ])
      await deleteKeysUnder(redis, keyPrefix)

      await server.kill()
      const ready = await t.app.request('/readyz')
      expect(ready.status).toBe(200)
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { database: 'ok', dataDir: 'ok', blobStore: 'ok', redis: 'failing' },
      })
      const models = await t.app.request('/v1/models')
      expect(models.status).toBe(200)
      expect(models.headers.get('ratelimit')).toMatch(/"key-requests";r=\d+/)
      const metrics = await (await t.app.request('/metrics')).text()
      // Two local decisions: the models request and this metrics request (it needs a key too).
      expect(metrics).toMatch(/^imagegate_rate_limit_local_decisions_total 2$/m)
      expect(t.logLines.filter((line) => line.level === 50)).toEqual([
        expect.objectContaining({ msg: expect.stringMatching(/^Redis unreachable/) }),
      ])
    } finally {
      await server.kill()
    }
  })

  it('GET /metrics counts requests by route template and status', async () => {
    t = await createTestApp()
    await t.app.request('/healthz')
    await t.app.request('/healthz')
    await t.app.request('/no/such/route')
    const text = await (await t.app.request('/metrics')).text()
    expect(text).toMatch(
      /imagegate_http_requests_total\{method="GET",route="\/healthz",status="200"\} 2/,
    )
    expect(text).toMatch(
      /imagegate_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/,
    )
    expect(text).toMatch(
      /imagegate_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz",status="200"\}/,
    )
  })

  it('GET /metrics counts generated images by model and provider', async () => {
    t = await createTestApp()
    await t.client.POST('/v1/images/generations', {
      body: { prompt: 'two foxes', n: 2, size: '256x256' },
    })
    const text = await (await t.app.request('/metrics')).text()
    expect(text).toMatch(
      /imagegate_images_generated_total\{model="local-sketch",provider="local"\} 2/,
    )
  })

  it('GET /openapi.json serves the committed contract', async () => {
    t = await createTestApp()
    const res = await t.app.request('/openapi.json')
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toContain('/healthz')
  })

  it('GET /docs serves Swagger UI from the package, with no external URL', async () => {
    t = await createTestApp()
    const html = await (await t.app.request('/docs')).text()
    expect(html).toContain('/docs/swagger-ui-bundle.js')
    expect(html).not.toMatch(/https?:\/\//)
    const bundle = await t.app.request('/docs/swagger-ui-bundle.js')
    expect(bundle.status).toBe(200)
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000)
  })
})
