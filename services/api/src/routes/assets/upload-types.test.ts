import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { withPngText } from '../../images/testing/fixtures.ts'
import { AssetSchema } from '../../schemas/asset.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import { type AssetTestApp, createAssetTestApp, noiseJpeg, noisePng } from '../../testing/assets.ts'

let t: AssetTestApp
afterEach(async () => {
  await t.close()
})

const text = (value: string) => new TextEncoder().encode(value)

const svg = text(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' +
    '<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>',
)
const html = text('<!doctype html><html><body><script>alert(1)</script></body></html>')
const php = text('<?php system($_GET["cmd"]); ?>')

describe('S3: the media type comes from the bytes, and only raster images are accepted', () => {
  it.each([
    ['SVG with a script', async () => svg, 'image.svg', 'image/svg+xml'],
    ['SVG named and typed as PNG', async () => svg, 'image.png', 'image/png'],
    ['HTML typed as PNG', async () => html, 'page.png', 'image/png'],
    ['PHP named .png', async () => php, 'shell.png', 'image/png'],
    [
      'a PNG with <script> appended',
      async () => Buffer.concat([await noisePng('polyglot'), text('<script>alert(1)</script>')]),
      'polyglot.png',
      'image/png',
    ],
    [
      'a PNG with HTML in a text chunk',
      async () => withPngText(await noisePng('text chunk'), 'Comment', '<html><script>x</script>'),
      'chunk.png',
      'image/png',
    ],
    ['a PDF', async () => text('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n'), 'doc.png', 'image/png'],
    ['plain text', async () => text('just some words, no image here'), 'a.png', 'image/png'],
  ])('refuses %s with 415 and keeps nothing', async (_, makeBytes, filename, partType) => {
    t = await createAssetTestApp()
    const res = await t.upload(await makeBytes(), { filename, partType })
    expect(res.status).toBe(415)
    const { error } = ErrorBodySchema.parse(await res.json())
    expect(error.code).toBe('unsupported_media_type')
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
    const listed = await t.client.GET('/v1/assets')
    expect(listed.data?.data).toEqual([])
  })

  it.each([
    ['image/png', () => noisePng('png')],
    ['image/jpeg', () => noiseJpeg('jpeg')],
    [
      'image/webp',
      () =>
        sharp({ create: { width: 8, height: 6, channels: 3, background: '#2a6' } })
          .webp()
          .toBuffer(),
    ],
    [
      'image/gif',
      () =>
        sharp({ create: { width: 8, height: 6, channels: 3, background: '#a26' } })
          .gif()
          .toBuffer(),
    ],
  ])('accepts %s, whatever the part claims to be', async (mediaType, makeBytes) => {
    t = await createAssetTestApp()
    const res = await t.upload(await makeBytes(), {
      filename: 'lies.svg',
      partType: 'image/svg+xml',
    })
    expect(res.status).toBe(201)
    const asset = AssetSchema.parse(await res.json())
    expect(asset.mediaType).toBe(mediaType)
    const content = await t.app.request(`/v1/assets/${asset.id}/content`)
    expect(content.headers.get('content-type')).toBe(mediaType)
    // The stored name is generated from the hash and the sniffed type, never the client's.
    expect(content.headers.get('content-disposition')).toMatch(
      new RegExp(`^inline; filename="generated-${asset.contentHash.slice(0, 8)}\\.[a-z]+"$`),
    )
    expect(content.headers.get('content-disposition')).not.toContain('svg')
  })

  it('stores a JPEG sent as image/png named .png as image/jpeg', async () => {
    t = await createAssetTestApp()
    const res = await t.upload(await noiseJpeg('liar'), {
      filename: 'photo.png',
      partType: 'image/png',
    })
    expect(res.status).toBe(201)
    expect(AssetSchema.parse(await res.json()).mediaType).toBe('image/jpeg')
  })
})
