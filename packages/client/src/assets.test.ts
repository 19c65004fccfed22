import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
// The client is exercised against the real app in-process; the server package owns these helpers.
import { noisePng } from '../../../services/api/src/testing/images.ts'
import { createTestApp, type TestApp } from '../../../services/api/src/testing/test-app.ts'
import { ImagegateError } from './errors.ts'
import { createImagegateClient } from './index.ts'

let t: TestApp
afterEach(async () => {
  await t.close()
})

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const isUpload = (request: Request) =>
  request.method === 'POST' && new URL(request.url).pathname === '/v1/assets'
const isDownload = (request: Request) => new URL(request.url).pathname.endsWith('/content')

/** Flips one bit of the file part, as a broken proxy or flaky link would. */
async function corruptUpload(request: Request): Promise<Request> {
  const form = await request.formData()
  const file = form.get('file') as File
  const bytes = new Uint8Array(await file.arrayBuffer())
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x01
  form.set('file', new Blob([bytes]), file.name)
  const headers = new Headers(request.headers)
  headers.delete('content-type')
  return new Request(request.url, { method: request.method, headers, body: form })
}

/**
 * A client over the in-process app whose transport can tamper with requests and responses,
 * recording every upload attempt (its declared digest) on the way.
 */
function clientOver(
  app: TestApp,
  tamper: {
    upload?: (attempt: number) => boolean
    download?: boolean
  } = {},
) {
  const uploads: string[] = []
  const client = createImagegateClient({
    baseUrl: 'http://imagegate.test',
    fetch: async (original) => {
      let request = original
      if (isUpload(request)) {
        uploads.push(request.headers.get('x-content-sha256') ?? '')
        if (tamper.upload?.(uploads.length)) {
          request = await corruptUpload(request)
        }
      }
      const response = await app.app.fetch(request)
      if (tamper.download && isDownload(request) && response.ok) {
        const bytes = new Uint8Array(await response.arrayBuffer())
        bytes[0] = (bytes[0] ?? 0) ^ 0x01
        return new Response(bytes, { status: response.status, headers: response.headers })
      }
      return response
    },
  })
  return { client, uploads }
}

describe('uploadAsset', () => {
  it('sends the digest of the bytes and reports whether the asset is new', async () => {
    t = await createTestApp()
    const { client, uploads } = clientOver(t)
    const bytes = await noisePng('client upload', 16)
    const meta = { kind: 'reference', description: 'noise', folderPath: '/client' }
    const first = await client.uploadAsset(bytes, meta)
    expect(uploads).toEqual([sha256(bytes)])
    expect(first).toMatchObject({ ...meta, created: true, contentHash: sha256(bytes) })
    const second = await client.uploadAsset(bytes)
    expect(second).toEqual({ ...first, created: false })
  })

  it('resends once when the bytes arrived corrupted, then succeeds', async () => {
    t = await createTestApp()
    const { client, uploads } = clientOver(t, { upload: (attempt) => attempt === 1 })
    const bytes = await noisePng('flaky link', 16)
    const asset = await client.uploadAsset(bytes)
    expect(uploads).toEqual([sha256(bytes), sha256(bytes)])
    expect(asset).toMatchObject({ created: true, contentHash: sha256(bytes) })
  })

  it('fails loudly with digest_mismatch after exactly two corrupted attempts', async () => {
    t = await createTestApp()
    const { client, uploads } = clientOver(t, { upload: () => true })
    const error = await client.uploadAsset(await noisePng('broken link', 16)).catch((e) => e)
    expect(error).toBeInstanceOf(ImagegateError)
    expect(error).toMatchObject({ status: 422, code: 'digest_mismatch' })
    expect(uploads).toHaveLength(2)
    const { data } = await client.GET('/v1/assets')
    expect(data?.data).toEqual([])
  })

  it('does not resend on other errors', async () => {
    t = await createTestApp()
    const { client, uploads } = clientOver(t)
    const error = await client
      .uploadAsset(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))
      .catch((e) => e)
    expect(error).toMatchObject({ status: 415, code: 'unsupported_media_type' })
    expect(uploads).toHaveLength(1)
  })
})

describe('downloadAsset', () => {
  it('returns the bytes after checking them against the announced hash', async () => {
    t = await createTestApp()
    const { client } = clientOver(t)
    const bytes = await noisePng('download', 16)
    const asset = await client.uploadAsset(bytes)
    const downloaded = await client.downloadAsset(asset.id)
    expect(Buffer.from(downloaded.bytes)).toEqual(bytes)
    expect(downloaded).toMatchObject({ contentHash: sha256(bytes), mediaType: 'image/png' })
  })

  it('throws digest_mismatch when the bytes were corrupted on the way', async () => {
    t = await createTestApp()
    const bytes = await noisePng('corrupted download', 16)
    const asset = await clientOver(t).client.uploadAsset(bytes)
    const { client } = clientOver(t, { download: true })
    const error = await client.downloadAsset(asset.id).catch((e) => e)
    expect(error).toBeInstanceOf(ImagegateError)
    expect(error.code).toBe('digest_mismatch')
    expect(error.message).toContain(sha256(bytes))
  })

  it('throws not_found for an unknown id', async () => {
    t = await createTestApp()
    const error = await clientOver(t)
      .client.downloadAsset('ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA')
      .catch((e) => e)
    expect(error).toMatchObject({ status: 404, code: 'not_found' })
  })
})
