import { afterEach, describe, expect, it } from 'vitest'
import { headerOnlyPng, pngBomb } from '../../images/testing/fixtures.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import { type AssetTestApp, createAssetTestApp, noisePng, sha256Hex } from '../../testing/assets.ts'

let t: AssetTestApp
afterEach(async () => {
  await t.close()
})

const BOUNDARY = 'imagegate-test-boundary'
const preamble = new TextEncoder().encode(
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n` +
    'Content-Type: image/png\r\n\r\n',
)

/**
 * A multipart body that never ends, pulled on demand (highWaterMark 0: nothing is read ahead),
 * counting what the server took from it and whether it was told to stop.
 */
function endlessUpload(chunkBytes = 16 * 1024) {
  const stats = { pulls: 0, bytes: 0, cancelled: false }
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = stats.pulls === 0 ? preamble : new Uint8Array(chunkBytes).fill(0x41)
        stats.pulls += 1
        stats.bytes += chunk.byteLength
        controller.enqueue(chunk)
      },
      cancel() {
        stats.cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  return { body, stats }
}

function rawUpload(body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) {
  return new Request('http://imagegate.test/v1/assets', {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'x-content-sha256': 'a'.repeat(64),
      ...headers,
    },
    body,
    duplex: 'half',
  } as RequestInit)
}

async function errorOf(response: Response) {
  return ErrorBodySchema.parse(await response.json()).error
}

describe('C3: upload size limit', () => {
  const limitBytes = 64 * 1024

  it('refuses a declared Content-Length over the limit before reading a byte', async () => {
    t = await createAssetTestApp({ env: { IMAGEGATE_MAX_UPLOAD_BYTES: String(limitBytes) } })
    const { body, stats } = endlessUpload()
    const res = await t.app.fetch(rawUpload(body, { 'content-length': String(10 * 1024 * 1024) }))
    expect(res.status).toBe(413)
    expect((await errorOf(res)).code).toBe('payload_too_large')
    expect(stats.pulls).toBe(0)
    expect(t.blobCalls).toEqual([])
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
  })

  it('stops reading an endless chunked body shortly after the limit and answers 413', async () => {
    t = await createAssetTestApp({ env: { IMAGEGATE_MAX_UPLOAD_BYTES: String(limitBytes) } })
    const { body, stats } = endlessUpload()
    const res = await t.app.fetch(rawUpload(body))
    expect(res.status).toBe(413)
    expect(res.headers.get('connection')).toBe('close')
    expect((await errorOf(res)).code).toBe('payload_too_large')
    // Read-ahead in the stream plumbing is bounded; the generator was cancelled, not drained.
    expect(stats.bytes).toBeGreaterThan(limitBytes)
    expect(stats.bytes).toBeLessThan(limitBytes + 1024 * 1024)
    expect(stats.cancelled).toBe(true)
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
  })

  it('accepts an image under the limit', async () => {
    t = await createAssetTestApp({ env: { IMAGEGATE_MAX_UPLOAD_BYTES: String(limitBytes) } })
    const png = await noisePng('small', 64)
    expect(png.byteLength).toBeLessThan(limitBytes)
    expect((await t.upload(png)).status).toBe(201)
  })

  it('refuses a file one byte over the limit even when its digest is right', async () => {
    const png = await noisePng('just over', 64)
    t = await createAssetTestApp({
      env: { IMAGEGATE_MAX_UPLOAD_BYTES: String(png.byteLength - 1) },
    })
    const res = await t.upload(png)
    expect(res.status).toBe(413)
    expect((await errorOf(res)).code).toBe('payload_too_large')
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
  })
})

describe('a body that breaks off', () => {
  it('settles the request and leaves no temp file when the body fails mid-file', async () => {
    t = await createAssetTestApp()
    let pulls = 0
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls += 1
          if (pulls === 1) {
            controller.enqueue(preamble)
          } else if (pulls < 5) {
            controller.enqueue(new Uint8Array(1000))
          } else {
            controller.error(new Error('the client went away'))
          }
        },
      },
      { highWaterMark: 0 },
    )
    const res = await t.app.fetch(rawUpload(body))
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
  })
})

describe('S4: pixel bombs are refused from the header, before decoding', () => {
  it.each([
    ['a header-only PNG claiming 100000×100000', headerOnlyPng(100_000, 100_000), '100000×100000'],
    ['a complete tiny PNG claiming 14000×14000', pngBomb(14_000, 14_000), '14000×14000'],
  ])('%s', async (_, bytes, dimensions) => {
    t = await createAssetTestApp()
    const started = performance.now()
    const res = await t.upload(bytes)
    const elapsedMs = performance.now() - started
    expect(res.status).toBe(413)
    const error = await errorOf(res)
    expect(error.code).toBe('payload_too_large')
    expect(error.message).toContain(dimensions)
    // Decoding 10^10 pixels would take minutes and gigabytes; a header read takes milliseconds.
    expect(elapsedMs).toBeLessThan(1000)
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
  })

  it('applies IMAGEGATE_MAX_PIXELS to ordinary images too', async () => {
    t = await createAssetTestApp({ env: { IMAGEGATE_MAX_PIXELS: String(32 * 32 - 1) } })
    const over = await t.upload(await noisePng('1024 pixels', 32))
    expect(over.status).toBe(413)
    expect((await errorOf(over)).message).toContain('32×32')
    const under = await noisePng('961 pixels', 31)
    const res = await t.upload(under)
    expect(res.status).toBe(201)
    expect(res.headers.get('x-content-sha256')).toBe(sha256Hex(under))
  })
})
