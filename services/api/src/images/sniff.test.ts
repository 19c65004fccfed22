import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { sniffImage } from './sniff.ts'

const solid = () => sharp({ create: { width: 4, height: 3, channels: 3, background: '#2a7' } })
const text = (value: string) => new TextEncoder().encode(value)

describe('sniffImage', () => {
  it.each([
    ['png', () => solid().png().toBuffer(), 'image/png', 'png'],
    ['jpeg', () => solid().jpeg().toBuffer(), 'image/jpeg', 'jpg'],
    ['webp', () => solid().webp().toBuffer(), 'image/webp', 'webp'],
    ['gif', () => solid().gif().toBuffer(), 'image/gif', 'gif'],
  ])('recognises %s from its bytes', async (format, make, mediaType, ext) => {
    expect(await sniffImage(await make())).toEqual({ image: { format, mediaType, ext } })
  })

  it.each([
    ['TIFF', () => solid().tiff().toBuffer(), 'image/tiff'],
    ['AVIF', () => solid().avif().toBuffer(), 'image/avif'],
    ['PDF', async () => text('%PDF-1.7\n1 0 obj\n'), 'application/pdf'],
    [
      'ZIP',
      async () => Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...new Array(26).fill(0)]),
      'application/zip',
    ],
    [
      'SVG',
      async () => text('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
      undefined,
    ],
    ['HTML', async () => text('<!doctype html><html><body>hi</body></html>'), undefined],
    ['plain text', async () => text('just some words'), undefined],
  ])('refuses %s', async (_label, make, detected) => {
    expect(await sniffImage(await make())).toEqual({ image: undefined, detected })
  })
})
