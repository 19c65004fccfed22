import { afterEach, describe, expect, it } from 'vitest'
import { type Asset, AssetSchema } from '../../schemas/asset.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import {
  type AssetTestApp,
  blobPathIn,
  createAssetTestApp,
  flipByte,
  noisePng,
  openDescriptorsTo,
} from '../../testing/assets.ts'

let t: AssetTestApp
afterEach(async () => {
  await t.close()
})

async function stored(seed = 'content'): Promise<{ asset: Asset; bytes: Buffer }> {
  t = await createAssetTestApp()
  const bytes = await noisePng(seed, 40)
  const asset = AssetSchema.parse(await (await t.upload(bytes)).json())
  return { asset, bytes }
}

const content = (asset: Asset, init: RequestInit = {}) =>
  t.app.request(`/v1/assets/${asset.id}/content`, init)

function expectContentHeaders(res: Response, asset: Asset) {
  expect(Object.fromEntries(res.headers)).toMatchObject({
    etag: `"${asset.contentHash}"`,
    'cache-control': 'private, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
    'content-security-policy': 'sandbox',
    'content-type': 'image/png',
    'content-disposition': `inline; filename="generated-${asset.contentHash.slice(0, 8)}.png"`,
    'accept-ranges': 'bytes',
  })
}

describe('S5: GET and HEAD /v1/assets/{id}/content', () => {
  it('GET serves the verified bytes with every content header', async () => {
    const { asset, bytes } = await stored()
    const res = await content(asset)
    expect(res.status).toBe(200)
    expectContentHeaders(res, asset)
    expect(res.headers.get('content-length')).toBe(String(bytes.byteLength))
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes)
  })

  it('HEAD answers the same headers without a body', async () => {
    const { asset, bytes } = await stored()
    const res = await content(asset, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expectContentHeaders(res, asset)
    expect(res.headers.get('content-length')).toBe(String(bytes.byteLength))
    expect((await res.arrayBuffer()).byteLength).toBe(0)
  })
})

describe('content above the stream threshold', () => {
  async function streamed() {
    t = await createAssetTestApp({ streamThresholdBytes: 1024 })
    const bytes = await noisePng('streamed', 64)
    const asset = AssetSchema.parse(await (await t.upload(bytes)).json())
    return { asset, bytes, blobPath: blobPathIn(t.blobRoot, asset.contentHash) }
  }

  it('GET streams it, range included, and closes the file when done', async () => {
    const { asset, bytes, blobPath } = await streamed()
    const whole = await content(asset)
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(bytes)
    const part = await content(asset, { headers: { range: 'bytes=2000-2999' } })
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(2000, 3000))
    expect(openDescriptorsTo(blobPath)).toBe(0)
  })

  it('HEAD leaves no file open', async () => {
    const { asset, bytes, blobPath } = await streamed()
    const res = await content(asset, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe(String(bytes.byteLength))
    expect(openDescriptorsTo(blobPath)).toBe(0)
  })
})

describe('S5: single byte ranges', () => {
  it.each([
    ['bytes=0-99', (size: number) => [0, 99, size]],
    ['bytes=0-0', (size: number) => [0, 0, size]],
    ['bytes=100-', (size: number) => [100, size - 1, size]],
    ['bytes=-10', (size: number) => [size - 10, size - 1, size]],
    ['bytes=-999999999', (size: number) => [0, size - 1, size]],
    ['bytes=10-999999999', (size: number) => [10, size - 1, size]],
  ])('%s answers 206 with its part and content-range', async (range, expected) => {
    const { asset, bytes } = await stored()
    const [first, last, size] = expected(bytes.byteLength) as [number, number, number]
    const res = await content(asset, { headers: { range } })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes ${first}-${last}/${size}`)
    expect(res.headers.get('content-length')).toBe(String(last - first + 1))
    expect(res.headers.get('etag')).toBe(`"${asset.contentHash}"`)
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes.subarray(first, last + 1))
    const head = await content(asset, { method: 'HEAD', headers: { range } })
    expect(head.status).toBe(206)
    expect(head.headers.get('content-range')).toBe(`bytes ${first}-${last}/${size}`)
  })

  it.each(['bytes=SIZE-', 'bytes=SIZE-SIZE', 'bytes=-0'])(
    '%s is unsatisfiable: 416 with content-range bytes */size',
    async (template) => {
      const { asset, bytes } = await stored()
      const range = template.replaceAll('SIZE', String(bytes.byteLength))
      for (const method of ['GET', 'HEAD']) {
        const res = await content(asset, { method, headers: { range } })
        expect(res.status).toBe(416)
        expect(res.headers.get('content-range')).toBe(`bytes */${bytes.byteLength}`)
        if (method === 'GET') {
          const { error } = ErrorBodySchema.parse(await res.json())
          expect(error.code).toBe('range_not_satisfiable')
        }
      }
    },
  )

  it.each(['bytes=0-1,5-6', 'items=0-5', 'bytes=9-3', 'garbage'])(
    'ignores %s and serves the whole content',
    async (range) => {
      const { asset, bytes } = await stored()
      const res = await content(asset, { headers: { range } })
      expect(res.status).toBe(200)
      expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes)
    },
  )
})

describe('S5: revalidation with If-None-Match', () => {
  it.each([
    ['the strong tag', (hash: string) => `"${hash}"`],
    ['the weak tag', (hash: string) => `W/"${hash}"`],
    ['a list naming it', (hash: string) => `"0000", W/"1111" ,"${hash}"`],
    ['*', () => '*'],
  ])('%s answers 304 with the caching headers and no body', async (_, header) => {
    const { asset } = await stored()
    for (const method of ['GET', 'HEAD']) {
      const res = await content(asset, {
        method,
        headers: { 'if-none-match': header(asset.contentHash), range: 'bytes=0-9' },
      })
      expect(res.status).toBe(304)
      expect(Object.fromEntries(res.headers)).toMatchObject({
        etag: `"${asset.contentHash}"`,
        'cache-control': 'private, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
        'content-security-policy': 'sandbox',
      })
      expect((await res.arrayBuffer()).byteLength).toBe(0)
    }
  })

  it('another tag answers 200 with the bytes', async () => {
    const { asset, bytes } = await stored()
    const res = await content(asset, { headers: { 'if-none-match': `"${'0'.repeat(64)}"` } })
    expect(res.status).toBe(200)
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes)
  })
})

describe('C8: content that fails verification is never served', () => {
  it('quarantines a corrupted blob, answers 500 internal_error and logs it', async () => {
    const { asset, bytes } = await stored('to corrupt')
    const blobPath = blobPathIn(t.blobRoot, asset.contentHash)
    flipByte(blobPath, 100)
    for (const headers of [{}, { range: 'bytes=0-9' }] as Record<string, string>[]) {
      const res = await content(asset, { headers })
      expect(res.status).toBe(500)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      const { error } = ErrorBodySchema.parse(await res.json())
      expect(error).toMatchObject({ code: 'internal_error', message: 'Internal error' })
    }
    const files = t.files()
    expect(files.blobs).toEqual([])
    expect(files.quarantine).toHaveLength(1)
    expect(files.quarantine[0]).toContain(asset.contentHash)
    const logged = t.logLines.find(
      (line) =>
        line.level === 50 && line.assetId === asset.id && line.contentHash === asset.contentHash,
    )
    expect(logged?.msg).toContain('failed verification')
    // Uploading the good bytes again heals the asset.
    expect((await t.upload(bytes)).status).toBe(200)
    const healed = await content(asset)
    expect(healed.status).toBe(200)
    expect(Buffer.from(await healed.arrayBuffer())).toEqual(bytes)
  })

  it('HEAD refuses a corrupted blob too: its headers would promise bytes GET cannot serve', async () => {
    const { asset } = await stored('head corrupt')
    flipByte(blobPathIn(t.blobRoot, asset.contentHash), 50)
    const res = await content(asset, { method: 'HEAD' })
    expect(res.status).toBe(500)
    expect(t.files().quarantine).toHaveLength(1)
  })

  it('answers 500, not 200, when the blob went missing from disk', async () => {
    const { asset } = await stored('vanished')
    await t.deps.blobs.delete(asset.contentHash)
    const res = await content(asset)
    expect(res.status).toBe(500)
    expect(t.logLines.some((line) => line.level === 50 && line.assetId === asset.id)).toBe(true)
  })
})
