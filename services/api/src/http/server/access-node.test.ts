import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

/**
 * Refusals as a client gets them from @hono/node-server, where the rate-limit headers go onto
 * the Node response (http/response-headers.ts) rather than into the error's own headers.
 */
let t: TestApp
let server: ServerType | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
  await t.close()
})

async function listening(env: Record<string, string>) {
  t = await createTestApp({ env })
  return new Promise<string>((resolve) => {
    server = serve({ fetch: t.hono.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve(`http://127.0.0.1:${info.port}`),
    )
  })
}

describe('429 rate_limited over a real socket', () => {
  it('carries the retry advice, every rate-limit dialect and the error body', async () => {
    const base = await listening({ IMAGEGATE_KEY_REQUESTS_PER_MINUTE: '1' })
    const get = () => fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${t.key}` } })
    const first = await get()
    expect(first.status).toBe(200)
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    await first.arrayBuffer()
    const limited = await get()
    expect(limited.status).toBe(429)
    const headers = Object.fromEntries(limited.headers)
    expect(headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-should-retry': 'true',
      'x-ratelimit-limit-requests': '1',
      'x-ratelimit-remaining-requests': '0',
    })
    expect(Number(headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(Number(headers['retry-after-ms'])).toBeGreaterThan(0)
    expect(headers['ratelimit-policy']).toContain('"key-requests";q=1;w=60')
    expect(headers.ratelimit).toContain('"key-requests";r=0;t=')
    expect(headers['x-request-id']).toMatch(/^req_/)
    const body = (await limited.json()) as { error: { code: string; requestId: string } }
    expect(body.error.code).toBe('rate_limited')
    expect(body.error.requestId).toBe(headers['x-request-id'])
  })
})
