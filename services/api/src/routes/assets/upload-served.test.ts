import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { serve } from '@hono/node-server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { AssetSchema } from '../../schemas/asset.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import {
  type AssetTestApp,
  createAssetTestApp,
  noisePng,
  sha256Hex,
  uploadRequest,
} from '../../testing/assets.ts'

/**
 * Uploads through a real @hono/node-server, as in production: the multipart body is read from
 * the Node request itself (`c.env.incoming`), not through the Request's web stream.
 */

let t: AssetTestApp
let server: http.Server | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  if (server) {
    server.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    server = undefined
  }
  await t.close()
})

async function served(options: Parameters<typeof createAssetTestApp>[0] = {}) {
  t = await createAssetTestApp(options)
  const listening = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server
  server = listening
  await new Promise((resolve) => listening.once('listening', resolve))
  const { port } = listening.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

const BOUNDARY = 'imagegate-served-boundary'
const preamble = Buffer.from(
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n` +
    'Content-Type: image/png\r\n\r\n',
)

/** A chunked multipart POST written by hand, so a test can stop or break it off at will. */
function rawUpload(url: string) {
  const request = http.request(`${url}/v1/assets`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'x-content-sha256': 'a'.repeat(64),
    },
  })
  const answer = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      request.on('response', (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
        response.on('error', reject)
      })
      request.on('error', reject)
    },
  )
  answer.catch(() => {})
  request.write(preamble)
  return { request, answer }
}

describe('uploads served by @hono/node-server', () => {
  it('reads the body from the Node request, stores it and answers 201', async () => {
    const url = await served()
    const fromWeb = vi.spyOn(Readable, 'fromWeb')
    const bytes = await noisePng('served', 48)
    const upload = uploadRequest(bytes, { meta: { description: 'over the wire' } })
    const res = await fetch(`${url}/v1/assets`, {
      method: 'POST',
      headers: upload.headers,
      body: await upload.arrayBuffer(),
    })
    expect(res.status).toBe(201)
    const asset = AssetSchema.parse(await res.json())
    expect(asset).toMatchObject({ contentHash: sha256Hex(bytes), description: 'over the wire' })
    expect(fromWeb).not.toHaveBeenCalled()
    const content = await fetch(`${url}/v1/assets/${asset.id}/content`)
    expect(Buffer.from(await content.arrayBuffer())).toEqual(bytes)
    expect(t.files().temp).toEqual([])
  })

  it('answers 413 to an endless body over the limit, then closes the connection', async () => {
    const limitBytes = 64 * 1024
    const url = await served({ env: { IMAGEGATE_MAX_UPLOAD_BYTES: String(limitBytes) } })
    const { request, answer } = rawUpload(url)
    let answered = false
    void answer.finally(() => {
      answered = true
    })
    const chunk = Buffer.alloc(16 * 1024, 0x41)
    let sent = 0
    while (!answered && sent < 64 * 1024 * 1024) {
      if (!request.write(chunk)) {
        await Promise.race([
          new Promise((resolve) => request.once('drain', resolve)),
          answer,
          new Promise((resolve) => setTimeout(resolve, 50)),
        ])
      }
      sent += chunk.byteLength
    }
    const res = await answer
    request.destroy()
    expect(res.status).toBe(413)
    expect(res.headers.connection).toBe('close')
    expect(ErrorBodySchema.parse(JSON.parse(res.body)).error.code).toBe('payload_too_large')
    await vi.waitFor(() => expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] }))
  })

  it('settles and leaves no temp file when the client goes away mid-body', async () => {
    const url = await served()
    const { request } = rawUpload(url)
    request.write(Buffer.alloc(50_000, 0x42))
    await vi.waitFor(() => expect(t.blobCalls.map((call) => call.method)).toContain('put'))
    request.destroy()
    await vi.waitFor(() => expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] }))
    // The server is fine afterwards.
    const bytes = await noisePng('after the abort', 16)
    const upload = uploadRequest(bytes)
    const res = await fetch(`${url}/v1/assets`, {
      method: 'POST',
      headers: upload.headers,
      body: await upload.arrayBuffer(),
    })
    expect(res.status).toBe(201)
  })
})
