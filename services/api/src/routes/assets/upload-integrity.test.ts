import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { flipBit } from '../../images/testing/fixtures.ts'
import { AssetSchema } from '../../schemas/asset.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import { type AssetTestApp, createAssetTestApp, noiseJpeg, noisePng } from '../../testing/assets.ts'

let t: AssetTestApp
afterEach(async () => {
  await t.close()
})

const webp = () =>
  sharp({ create: { width: 24, height: 16, channels: 3, background: '#2a6' } })
    .webp()
    .toBuffer()
const gif = () =>
  sharp({ create: { width: 24, height: 16, channels: 3, background: '#62a' } })
    .gif()
    .toBuffer()

function withRiffSize(bytes: Buffer, size: number) {
  const out = Buffer.from(bytes)
  out.writeUInt32LE(size, 4)
  return out
}

describe('uploads pass the same integrity check as provider images', () => {
  it.each([
    ['a PNG cut before IEND', async () => (await noisePng('cut', 64)).subarray(0, -12)],
    [
      'a PNG with a flipped bit in its pixel data',
      async () => {
        const png = await noisePng('flipped', 64)
        return flipBit(png, (png.byteLength - 40) * 8)
      },
    ],
    [
      'a PNG with bytes after IEND',
      async () => Buffer.concat([await noisePng('after'), Buffer.alloc(16)]),
    ],
    ['a JPEG without EOI', async () => (await noiseJpeg('no eoi', 64)).subarray(0, -2)],
    [
      'a WebP whose RIFF size is wrong',
      async () => {
        const bytes = await webp()
        return withRiffSize(bytes, bytes.readUInt32LE(4) + 2)
      },
    ],
    ['a GIF without its trailer', async () => (await gif()).subarray(0, -1)],
  ])('refuses %s with 415 and keeps nothing', async (_label, make) => {
    t = await createAssetTestApp()
    const res = await t.upload(await make())
    expect(res.status).toBe(415)
    const { error } = ErrorBodySchema.parse(await res.json())
    expect(error.code).toBe('unsupported_media_type')
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
    const listed = await t.client.GET('/v1/assets')
    expect(listed.data?.data).toEqual([])
  })

  it('checks a multi-megabyte upload as it streams, and stores it whole', async () => {
    t = await createAssetTestApp()
    const png = await noisePng('large', 1024)
    expect(png.byteLength).toBeGreaterThan(3_000_000)
    const res = await t.upload(png)
    expect(res.status).toBe(201)
    const asset = AssetSchema.parse(await res.json())
    expect(asset).toMatchObject({ sizeBytes: png.byteLength, width: 1024, height: 1024 })
  })
})
