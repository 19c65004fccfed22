import { createHash } from 'node:crypto'
import { inflateSync } from 'node:zlib'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { integrityVerdict } from '../../services/api/src/images/testing/fixtures.ts'
import { createOpenAIProvider } from '../../services/api/src/providers/openai.ts'
import { distinctPngs } from './distinct-pngs.ts'
import { startFakeUpstream } from './fake-upstream.ts'
import { photoPng } from './photo-png.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** The filter type byte of each row, from the inflated IDAT stream. */
async function rowFilters(png: Buffer): Promise<Set<number>> {
  const { width = 0, height = 0, channels = 0 } = await sharp(png).metadata()
  const idat: Buffer[] = []
  for (let at = 8; at < png.byteLength; ) {
    const length = png.readUInt32BE(at)
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') {
      idat.push(png.subarray(at + 8, at + 8 + length))
    }
    at += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = 1 + width * channels
  expect(raw.byteLength).toBe(stride * height)
  return new Set(Array.from({ length: height }, (_, row) => raw[row * stride] as number))
}

describe('photoPng', () => {
  it('is a real encoder`s 1024×1024 RGB PNG of about 1.5 MB, with adaptive row filters', async () => {
    const png = await photoPng(1)
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 1024, height: 1024 })
    expect(png.byteLength).toBeGreaterThan(1_000_000)
    expect(png.byteLength).toBeLessThan(2_500_000)
    // Adaptive filtering picks per row: more than one filter type appears.
    expect((await rowFilters(png)).size).toBeGreaterThan(1)
  })

  it('differs per seed and is the same for the same seed', async () => {
    const [a, again, b] = await Promise.all([
      photoPng(2, 64, 64),
      photoPng(2, 64, 64),
      photoPng(3, 64, 64),
    ])
    expect(sha256(a)).toBe(sha256(again))
    expect(sha256(a)).not.toBe(sha256(b))
  })
})

describe('distinctPngs', () => {
  it('gives different, intact PNGs of the pool`s pixels for every index', async () => {
    const pool = await Promise.all([photoPng(4, 48, 32), photoPng(5, 48, 32)])
    const next = distinctPngs(pool)
    const images = [0, 1, 2, 3].map((index) => Buffer.from(next(index), 'base64'))
    expect(new Set(images.map(sha256)).size).toBe(4)
    for (const [index, image] of images.entries()) {
      expect(integrityVerdict(image)).toBe('intact')
      const pixels = await sharp(image).raw().toBuffer()
      const original = await sharp(pool[index % 2])
        .raw()
        .toBuffer()
      expect(pixels.equals(original)).toBe(true)
    }
    expect(next(2)).toBe(Buffer.from(next(2), 'base64').toString('base64'))
  })
})

describe('the fake upstream with an image per call', () => {
  it('answers each generation with the image for its call', async () => {
    const pool = await Promise.all([photoPng(6, 32, 32)])
    const imageFor = distinctPngs(pool)
    const up = await startFakeUpstream({ imageBase64For: imageFor })
    try {
      const provider = createOpenAIProvider({ baseUrl: `${up.url}/v1`, apiKey: 'sk-fake', fetch })
      const request = {
        upstreamModel: 'gpt-image-1',
        prompt: 'a lighthouse',
        n: 1,
        size: { width: 1024, height: 1024 },
        signal: AbortSignal.timeout(10_000),
      }
      const first = await provider.generate(request)
      const second = await provider.generate(request)
      expect(sha256(first.images[0]?.bytes ?? new Uint8Array())).toBe(
        sha256(Buffer.from(imageFor(0), 'base64')),
      )
      expect(sha256(second.images[0]?.bytes ?? new Uint8Array())).toBe(
        sha256(Buffer.from(imageFor(1), 'base64')),
      )
      // The answer reports the size of the image it carries.
      expect(JSON.parse(up.calls[0]?.answer ?? '{}')).toMatchObject({ size: '32x32' })
    } finally {
      await up.close()
    }
  })
})
