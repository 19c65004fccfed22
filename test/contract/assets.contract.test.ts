import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { type Asset, AssetSchema } from '../../services/api/src/schemas/asset.ts'
import { ErrorBodySchema } from '../../services/api/src/schemas/error.ts'
import { asciiGif, sha256Hex } from '../../services/api/src/testing/images.ts'
import { repoRoot } from '../support/processes.ts'

/**
 * The asset routes of the real server behind `prism proxy --errors`: every answer must be one
 * the spec declares (Prism adds `sl-violations` and turns it into a 500 otherwise).
 *
 * Uploads are GIFs made only of bytes below 0x80: Prism forwards request bodies as UTF-8 text,
 * which mangles any real PNG or JPEG on the way (stoplightio/prism#1321), so only such bytes
 * reach the server intact.
 */
const proxyUrl = inject('prismProxyUrl')
const serverUrl = inject('serverUrl')

/** Every request carries the server's bootstrap key: the /v1 routes need one. */
const fetch: typeof globalThis.fetch = (input, init = {}) =>
  globalThis.fetch(input, {
    ...init,
    headers: { authorization: `Bearer ${inject('serverKey')}`, ...(init.headers as object) },
  })

const spec = JSON.parse(readFileSync(path.join(repoRoot, 'openapi/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
}
const declaredStatuses = (route: string, method: string) =>
  Object.keys(spec.paths[route]?.[method]?.responses ?? {}).map(Number)

function expectOnSpec(response: Response) {
  expect(response.headers.get('sl-violations')).toBeNull()
}

function upload(base: string, bytes: Uint8Array, headers: Record<string, string> = {}) {
  const form = new FormData()
  form.append('kind', 'reference')
  form.append('folderPath', '/contract')
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/gif' }), 'contract.gif')
  return fetch(`${base}/v1/assets`, {
    method: 'POST',
    headers: { 'x-content-sha256': sha256Hex(bytes), ...headers },
    body: form,
  })
}

async function uploaded(): Promise<{ asset: Asset; bytes: Buffer }> {
  const bytes = asciiGif(`contract ${randomUUID()}`)
  const response = await upload(proxyUrl, bytes)
  expectOnSpec(response)
  expect(response.status).toBe(201)
  return { asset: AssetSchema.parse(await response.json()), bytes }
}

async function expectError(response: Response, status: number, code: string) {
  expectOnSpec(response)
  expect(response.status).toBe(status)
  const { error } = ErrorBodySchema.parse(await response.json())
  expect(error.code).toBe(code)
  return error
}

const missingId = 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA'

describe('asset routes behind prism proxy --errors (server ↔ spec)', () => {
  it('POST /v1/assets answers 201 for new bytes and 200 for bytes already stored', async () => {
    const bytes = asciiGif(`upload ${randomUUID()}`)
    const first = await upload(proxyUrl, bytes)
    expectOnSpec(first)
    expect(first.status).toBe(201)
    expect(first.headers.get('x-content-sha256')).toBe(sha256Hex(bytes))
    const asset = AssetSchema.parse(await first.json())
    expect(asset).toMatchObject({
      mediaType: 'image/gif',
      kind: 'reference',
      sizeBytes: bytes.length,
    })
    const again = await upload(proxyUrl, bytes)
    expectOnSpec(again)
    expect(again.status).toBe(200)
    expect(AssetSchema.parse(await again.json())).toEqual(asset)
  })

  it('GET /v1/assets/{id} and GET /v1/assets with filters', async () => {
    const { asset } = await uploaded()
    const one = await fetch(`${proxyUrl}/v1/assets/${asset.id}`)
    expectOnSpec(one)
    expect(AssetSchema.parse(await one.json())).toEqual(asset)
    const query = `kind=reference&folderPath=/contract&mediaType=image/gif&createdAfter=${asset.createdAt}&limit=100`
    const listed = await fetch(`${proxyUrl}/v1/assets?${query}`)
    expectOnSpec(listed)
    expect(listed.status).toBe(200)
    const page = (await listed.json()) as { data: Asset[] }
    expect(page.data.map((item) => item.id)).toContain(asset.id)
  })

  it('GET and HEAD /v1/assets/{id}/content: 200, 206 and 304', async () => {
    const { asset, bytes } = await uploaded()
    const url = `${proxyUrl}/v1/assets/${asset.id}/content`
    const whole = await fetch(url)
    expectOnSpec(whole)
    expect(whole.status).toBe(200)
    expect(whole.headers.get('etag')).toBe(`"${asset.contentHash}"`)
    expect(whole.headers.get('content-type')).toBe('image/gif')
    expect(whole.headers.get('x-content-type-options')).toBe('nosniff')
    expect(whole.headers.get('content-security-policy')).toBe('sandbox')
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(bytes)
    const head = await fetch(url, { method: 'HEAD' })
    expectOnSpec(head)
    expect(head.status).toBe(200)
    const part = await fetch(url, { headers: { range: 'bytes=0-5' } })
    expectOnSpec(part)
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 0-5/${bytes.length}`)
    expect(await part.text()).toBe('GIF89a')
    const headPart = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=-4' } })
    expectOnSpec(headPart)
    expect(headPart.status).toBe(206)
    for (const method of ['GET', 'HEAD']) {
      const cached = await fetch(url, {
        method,
        headers: { 'if-none-match': `W/"${asset.contentHash}"` },
      })
      expectOnSpec(cached)
      expect(cached.status).toBe(304)
    }
  })

  it('DELETE /v1/assets/{id} answers 204, then 404 on every route', async () => {
    const { asset } = await uploaded()
    const deleted = await fetch(`${proxyUrl}/v1/assets/${asset.id}`, { method: 'DELETE' })
    expectOnSpec(deleted)
    expect(deleted.status).toBe(204)
    await expectError(await fetch(`${proxyUrl}/v1/assets/${asset.id}`), 404, 'not_found')
    await expectError(await fetch(`${proxyUrl}/v1/assets/${asset.id}/content`), 404, 'not_found')
    const again = await fetch(`${proxyUrl}/v1/assets/${asset.id}`, { method: 'DELETE' })
    await expectError(again, 404, 'not_found')
  })

  it('declared errors: 422 digest_mismatch, 415, 416, 404 and 400', async () => {
    const bytes = asciiGif(`mismatch ${randomUUID()}`)
    const mismatch = await upload(proxyUrl, bytes, { 'x-content-sha256': sha256Hex(asciiGif('x')) })
    await expectError(mismatch, 422, 'digest_mismatch')
    const text = new TextEncoder().encode(`just text ${randomUUID()}`)
    await expectError(await upload(proxyUrl, text), 415, 'unsupported_media_type')
    const { asset, bytes: stored } = await uploaded()
    const beyond = await fetch(`${proxyUrl}/v1/assets/${asset.id}/content`, {
      headers: { range: `bytes=${stored.length}-` },
    })
    expect(beyond.headers.get('content-range')).toBe(`bytes */${stored.length}`)
    await expectError(beyond, 416, 'range_not_satisfiable')
    await expectError(await fetch(`${proxyUrl}/v1/assets/${missingId}`), 404, 'not_found')
    await expectError(await fetch(`${proxyUrl}/v1/assets/${missingId}/content`), 404, 'not_found')
    const malformed = await fetch(`${proxyUrl}/v1/assets/..%2F..%2Fetc%2Fpasswd/content`)
    await expectError(malformed, 404, 'not_found')
    const badCursor = await fetch(`${proxyUrl}/v1/assets?cursor=not-a-cursor`)
    await expectError(badCursor, 400, 'invalid_request')
  })
})

describe('errors Prism refuses before forwarding, checked against the server directly', () => {
  it.each([
    ['no x-content-sha256 header', undefined, 'missing_digest'],
    ['uppercase hex', 'A'.repeat(64), 'invalid_digest'],
    ['63 characters', 'a'.repeat(63), 'invalid_digest'],
    ['base64', Buffer.alloc(32, 7).toString('base64'), 'invalid_digest'],
  ])('%s: 400 %s, a status the spec declares', async (_, digest, code) => {
    const bytes = asciiGif(`digest ${randomUUID()}`)
    const headers: Record<string, string> =
      digest === undefined ? {} : { 'x-content-sha256': digest }
    const send = (base: string) => {
      const form = new FormData()
      form.append('file', new Blob([new Uint8Array(bytes)]), 'a.gif')
      return fetch(`${base}/v1/assets`, { method: 'POST', headers, body: form })
    }
    // Prism validates the header against the spec itself and answers with its own 422.
    const refused = await send(proxyUrl)
    expect(refused.status).toBe(422)
    expect(refused.headers.get('content-type')).toContain('application/problem+json')
    const direct = await send(serverUrl)
    expect(declaredStatuses('/v1/assets', 'post')).toContain(direct.status)
    const error = await expectError(direct, 400, code)
    expect(error.param).toBe('x-content-sha256')
  })

  it('HEAD answering 404 (Prism reads every JSON answer’s body, and HEAD has none)', async () => {
    const head = await fetch(`${serverUrl}/v1/assets/${missingId}/content`, { method: 'HEAD' })
    expect(head.status).toBe(404)
    expect(declaredStatuses('/v1/assets/{id}/content', 'head')).toContain(404)
    expect(head.headers.get('content-type')).toMatch(/^application\/json/)
    expect(head.headers.get('x-should-retry')).toBe('false')
    expect(await head.text()).toBe('')
  })
})
