import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { type Asset, AssetSchema } from '../../schemas/asset.ts'
import { type AssetTestApp, createAssetTestApp, noisePng } from '../../testing/assets.ts'

/**
 * The content route and the access headers under @hono/node-server, as deployed: there the
 * per-request headers go onto the Node response instead of through `c.header` (see
 * http/response-headers.ts), so `app.request` alone would not see what clients get.
 */
let t: AssetTestApp
let server: ServerType | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
  await t.close()
})

async function listening(): Promise<{ base: string; asset: Asset; bytes: Buffer }> {
  t = await createAssetTestApp()
  const bytes = await noisePng('content-node', 40)
  const asset = AssetSchema.parse(await (await t.upload(bytes)).json())
  const base = await new Promise<string>((resolve) => {
    server = serve({ fetch: t.hono.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve(`http://127.0.0.1:${info.port}`),
    )
  })
  return { base, asset, bytes }
}

const get = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { authorization: `Bearer ${t.key}`, ...headers } })

function expectExchangeHeaders(res: Response) {
  expect(res.headers.get('x-request-id')).toMatch(/^req_/)
  expect(res.headers.get('ratelimit-policy')).toContain('"key-requests"')
  expect(res.headers.get('x-ratelimit-limit-requests')).toBe('1000000')
}

describe('GET /v1/assets/{id}/content over a real socket', () => {
  it('200: the content type is the asset`s, with every content and exchange header', async () => {
    const { base, asset, bytes } = await listening()
    const res = await get(`${base}/v1/assets/${asset.id}/content`)
    expect(res.status).toBe(200)
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(bytes.byteLength),
      etag: `"${asset.contentHash}"`,
      'cache-control': 'private, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'content-security-policy': 'sandbox',
      'accept-ranges': 'bytes',
    })
    expectExchangeHeaders(res)
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes)
  })

  it('206 states the range and its length', async () => {
    const { base, asset, bytes } = await listening()
    const res = await get(`${base}/v1/assets/${asset.id}/content`, { range: 'bytes=10-19' })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes 10-19/${bytes.byteLength}`)
    expect(res.headers.get('content-length')).toBe('10')
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes.subarray(10, 20))
  })

  it('304 carries the cache headers and the exchange headers, no body', async () => {
    const { base, asset } = await listening()
    const res = await get(`${base}/v1/assets/${asset.id}/content`, {
      'if-none-match': `"${asset.contentHash}"`,
    })
    expect(res.status).toBe(304)
    expect(res.headers.get('etag')).toBe(`"${asset.contentHash}"`)
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable')
    expectExchangeHeaders(res)
  })

  it('a caller`s sane X-Request-Id comes back; a malformed one is replaced', async () => {
    const { base, asset } = await listening()
    const url = `${base}/v1/assets/${asset.id}/content`
    expect((await get(url, { 'x-request-id': 'trace-42=a' })).headers.get('x-request-id')).toBe(
      'trace-42=a',
    )
    expect((await get(url, { 'x-request-id': 'bad id!' })).headers.get('x-request-id')).toMatch(
      /^req_/,
    )
  })

  it('errors never carry the content`s cache headers', async () => {
    const { base, asset } = await listening()
    const missing = await get(`${base}/v1/assets/ast_missing/content`)
    expect(missing.status).toBe(404)
    expect(missing.headers.get('cache-control')).toBeNull()
    expect(missing.headers.get('etag')).toBeNull()
    expect(missing.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const outside = await get(`${base}/v1/assets/${asset.id}/content`, {
      range: 'bytes=999999-',
    })
    expect(outside.status).toBe(416)
    expect(outside.headers.get('cache-control')).toBeNull()
    expectExchangeHeaders(outside)
  })
})
