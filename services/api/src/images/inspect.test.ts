import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ImageTooLargeError, UnsupportedImageError } from './errors.ts'
import { inspectImage } from './inspect.ts'
import {
  headerOnlyPng,
  pngBomb,
  pseudoRandomBytes,
  solidImage,
  withPngText,
} from './testing/fixtures.ts'

let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'imagegate-inspect-'))
})

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function onDisk(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(scratch, name)
  await writeFile(file, bytes)
  return file
}

const text = (value: string) => Buffer.from(value, 'latin1')
const maxPixels = 40_000_000

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

describe('inspectImage', () => {
  it.each([
    ['PNG', () => solidImage(30, 20).png().toBuffer(), 'image/png', 'png'],
    ['JPEG', () => solidImage(30, 20).jpeg().toBuffer(), 'image/jpeg', 'jpg'],
    ['WebP', () => solidImage(30, 20).webp().toBuffer(), 'image/webp', 'webp'],
    ['GIF', () => solidImage(30, 20).gif().toBuffer(), 'image/gif', 'gif'],
  ])('identifies a real %s from bytes and from a file', async (label, make, mediaType, ext) => {
    const bytes = await make()
    const expected = { mediaType, ext, width: 30, height: 20 }
    expect(await inspectImage({ bytes }, { maxPixels })).toEqual(expected)
    const file = await onDisk(`real.${label}`, bytes)
    expect(await inspectImage({ path: file }, { maxPixels })).toEqual(expected)
    expect(
      await inspectImage({ path: file, head: bytes.subarray(0, 4096), tail: bytes }, { maxPixels }),
    ).toEqual(expected)
  })

  it('reports the displayed size of a rotated JPEG', async () => {
    const bytes = await solidImage(30, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer()
    expect(await inspectImage({ bytes }, { maxPixels })).toMatchObject({ width: 20, height: 30 })
  })

  it('accepts an image carrying XMP metadata', async () => {
    const xmp =
      '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF ' +
      'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF></x:xmpmeta>'
    const bytes = await solidImage(8, 8).png().withXmp(xmp).toBuffer()
    expect((await inspectImage({ bytes }, { maxPixels })).mediaType).toBe('image/png')
  })

  it('refuses a 100000×100000 header-only PNG before any decoder sees it', async () => {
    const bomb = headerOnlyPng(100_000, 100_000)
    const file = await onDisk('bomb.png', bomb)
    const started = performance.now()
    const error = await rejection(inspectImage({ path: file }, { maxPixels }))
    // sharp cannot even read this header (no IDAT): only our own parser can produce this error.
    expect(error).toBeInstanceOf(ImageTooLargeError)
    expect(error).toMatchObject({ width: 100_000, height: 100_000, maxPixels })
    expect(performance.now() - started).toBeLessThan(200)
    await expect(inspectImage({ bytes: bomb }, { maxPixels })).rejects.toBeInstanceOf(
      ImageTooLargeError,
    )
    await expect(
      inspectImage({ bytes: pngBomb(14_000, 14_000) }, { maxPixels }),
    ).rejects.toBeInstanceOf(ImageTooLargeError)
  })

  it('refuses a real image over the pixel limit', async () => {
    const bytes = await solidImage(100, 100).png().toBuffer()
    await expect(inspectImage({ bytes }, { maxPixels: 9_999 })).rejects.toBeInstanceOf(
      ImageTooLargeError,
    )
    expect((await inspectImage({ bytes }, { maxPixels: 10_000 })).width).toBe(100)
  })

  it.each([
    ['SVG', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    ['SVG with an XML prolog', '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'],
    ['HTML', '<!doctype html><html><script>alert(1)</script></html>'],
    ['PHP', '<?php system($_GET["c"]); ?>'],
    ['PDF', '%PDF-1.7\n1 0 obj <<>> endobj\n'],
    ['text', 'hello'],
    ['ZIP', 'PK\x03\x04\x14\x00\x00\x00\x08\x00'.padEnd(64, '\0')],
    ['nothing', ''],
  ])('refuses %s whatever the client called it', async (_label, content) => {
    const error = await rejection(inspectImage({ bytes: text(content) }, { maxPixels }))
    expect(error).toBeInstanceOf(UnsupportedImageError)
    expect(error).toMatchObject({ reason: 'not_allowed' })
  })

  it('refuses a TIFF by name', async () => {
    const bytes = await solidImage(4, 4).tiff().toBuffer()
    await expect(inspectImage({ bytes }, { maxPixels })).rejects.toMatchObject({
      reason: 'not_allowed',
      detected: 'image/tiff',
    })
  })

  it.each([
    [
      'HTML appended to a PNG',
      async () => {
        const png = await solidImage(16, 16).png().toBuffer()
        return Buffer.concat([png, text('<html><script>alert(document.cookie)</script></html>')])
      },
    ],
    [
      'PHP in a PNG text chunk',
      async () => {
        const png = await solidImage(16, 16).png().toBuffer()
        return withPngText(png, 'Comment', '<?php system($_GET["c"]); ?>')
      },
    ],
    [
      'a GIF header followed by SVG',
      async () =>
        Buffer.concat([text('GIF89a\x01\x00\x01\x00\x00\x00\x00'), text('<svg onload=alert(1)>')]),
    ],
    [
      'script after a large JPEG',
      async () => {
        const jpeg = await solidImage(256, 256).jpeg({ quality: 100 }).toBuffer()
        return Buffer.concat([jpeg, pseudoRandomBytes(10_000, 'padding'), text('<script src=//x>')])
      },
    ],
  ])('refuses a polyglot: %s', async (_label, make) => {
    const bytes = await make()
    await expect(inspectImage({ bytes }, { maxPixels })).rejects.toMatchObject({
      name: 'UnsupportedImageError',
      reason: 'embedded_markup',
    })
    const file = await onDisk('polyglot', bytes)
    await expect(inspectImage({ path: file }, { maxPixels })).rejects.toMatchObject({
      reason: 'embedded_markup',
    })
  })

  it('refuses a file whose signature is right but whose header is not', async () => {
    const bytes = Buffer.concat([headerOnlyPng(10, 10), pseudoRandomBytes(64, 'not a chunk')])
    await expect(inspectImage({ bytes }, { maxPixels })).rejects.toMatchObject({
      reason: 'unreadable_header',
    })
  })
})
