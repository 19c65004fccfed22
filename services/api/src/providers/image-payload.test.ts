import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { decodeImageBase64, readImageBase64 } from './image-payload.ts'
import { Base64Value, parseJsonBytes } from './json-bytes.ts'
import { UpstreamFailure } from './types.ts'

const source = sharp({
  create: { width: 24, height: 16, channels: 3, background: { r: 10, g: 120, b: 200 } },
})
const files = {
  png: await source.clone().png().toBuffer(),
  jpeg: await source.clone().jpeg().toBuffer(),
  webp: await source.clone().webp().toBuffer(),
}

const unpadded = files.png.toString('base64').replace(/=+$/, '')

function decode(text: string) {
  return decodeImageBase64('gemini', text, 'the image')
}

describe('decodeImageBase64', () => {
  it.each(Object.entries(files))('accepts a whole %s', (_format, bytes) => {
    expect(decode(bytes.toString('base64'))).toEqual(new Uint8Array(bytes))
  })

  it('accepts base64url and line breaks', () => {
    const text = files.png.toString('base64url').replace(/(.{76})/g, '$1\n')
    expect(decode(text)).toEqual(new Uint8Array(files.png))
  })

  it.each(Object.entries(files))('refuses a %s cut short', (_format, bytes) => {
    const text = bytes.subarray(0, bytes.length - 3).toString('base64')
    expect(() => decode(text)).toThrow(UpstreamFailure)
  })

  it.each([
    ['empty', ''],
    [
      'a stray character',
      `${files.png.toString('base64').slice(0, 20)}$${files.png.toString('base64').slice(20)}`,
    ],
    [
      'a length no base64 encoder produces',
      `${unpadded}${'A'.repeat((5 - (unpadded.length % 4)) % 4)}`,
    ],
    ['padding in the wrong place', `${files.png.toString('base64').slice(0, 6)}==`],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1').toString('base64')],
  ])('refuses %s', (_name, text) => {
    expect(() => decode(text)).toThrow(expect.objectContaining({ kind: 'bad_response' }))
  })
})

describe('readImageBase64', () => {
  it('keeps standard padded base64 to pass on as it is', () => {
    const text = files.png.toString('base64')
    expect(readImageBase64('openai', text, 'the image')).toEqual({
      bytes: new Uint8Array(files.png),
      base64: text,
    })
  })

  it.each([
    ['base64url', files.png.toString('base64url')],
    ['unpadded', unpadded],
    ['line-broken', files.png.toString('base64').replace(/(.{76})/g, '$1\n')],
  ])('decodes %s text but does not keep it', (_name, text) => {
    expect(text).not.toBe(files.png.toString('base64'))
    expect(readImageBase64('openai', text, 'the image')).toEqual({
      bytes: new Uint8Array(files.png),
    })
  })

  it('names the memory of an answer read as bytes, which is its own to release', async () => {
    // Noise: large enough that its base64 is lifted out of the JSON as bytes.
    const png = await sharp(
      Buffer.alloc(96 * 96 * 3).map((_, index) => (index * 7919) % 251),
      {
        raw: { width: 96, height: 96, channels: 3 },
      },
    )
      .png({ compressionLevel: 0 })
      .toBuffer()
    const body = new Uint8Array(
      Buffer.from(JSON.stringify({ data: [{ b64_json: png.toString('base64') }] })),
    )
    const parsed = parseJsonBytes(body, { base64: 'bytes' }) as { data: { b64_json: unknown }[] }
    const value = parsed.data[0]?.b64_json
    expect(value).toBeInstanceOf(Base64Value)
    const image = readImageBase64('openai', value as Base64Value, 'the image')
    expect(image.bytes).toEqual(new Uint8Array(png))
    // The very buffers, not copies: the decoded image and the body its base64 is a view of.
    expect(image.ownedBuffers).toHaveLength(2)
    expect(image.ownedBuffers?.[0]).toBe((value as Base64Value).decoded.buffer)
    expect(image.ownedBuffers?.[1]).toBe(body.buffer)
  })

  it('names no memory for text it was given as a string', () => {
    expect(
      readImageBase64('openai', files.png.toString('base64'), 'the image').ownedBuffers,
    ).toBeUndefined()
  })
})
