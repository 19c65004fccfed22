import { afterEach, describe, expect, it } from 'vitest'
import { ErrorBodySchema } from '../../schemas/error.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

let t: TestApp
afterEach(async () => {
  await t.close()
})

const LIMIT = 4096

/** A chunked body (no Content-Length) of `chunks` chunks of `size` bytes; counts what was pulled. */
function chunkedBody(chunks: number, size: number) {
  let pulled = 0
  const chunk = new TextEncoder().encode(`{"name":"${'x'.repeat(size)}`.slice(0, size))
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks) {
        controller.close()
        return
      }
      pulled += 1
      controller.enqueue(chunk)
    },
  })
  return { stream, pulledChunks: () => pulled }
}

describe('jsonBodyLimit', () => {
  it('refuses a declared Content-Length over the limit with 413 before reading the body', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MAX_JSON_BYTES: String(LIMIT) } })
    let read = false
    // highWaterMark 0: nothing is pulled until someone reads.
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          read = true
          controller.close()
        },
      },
      { highWaterMark: 0 },
    )
    const res = await t.app.request('/v1/workspaces', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(60 * 1024 * 1024) },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    const { error } = ErrorBodySchema.parse(await res.json())
    expect(error.code).toBe('payload_too_large')
    expect(error.message).toContain(String(LIMIT))
    expect(read).toBe(false)
  })

  it('stops reading a chunked body as soon as it passes the limit', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MAX_JSON_BYTES: String(LIMIT) } })
    const { stream, pulledChunks } = chunkedBody(10_000, 1024)
    const res = await t.app.request('/v1/images/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(ErrorBodySchema.parse(await res.json()).error.code).toBe('payload_too_large')
    // The limit is 4 chunks; a stream may be pulled a little ahead, never to its end.
    expect(pulledChunks()).toBeLessThan(10)
  })

  it('answers the skill route in its own envelope', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MAX_JSON_BYTES: String(LIMIT) } })
    const res = await t.app.request('/v1/skills/image-generate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x'.repeat(2 * LIMIT) }),
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'payload_too_large' } })
  })

  it('lets bodies within the limit through, chunked or not', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MAX_JSON_BYTES: String(LIMIT) } })
    const json = JSON.stringify({ name: 'n'.repeat(100), initialCredits: 5 })
    const declared = await t.app.request('/v1/workspaces', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json,
    })
    expect(declared.status).toBe(201)
    const bytes = new TextEncoder().encode(json)
    const chunked = await t.app.request('/v1/workspaces', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 10))
          controller.enqueue(bytes.subarray(10))
          controller.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(201)
    expect(await chunked.json()).toMatchObject({ name: 'n'.repeat(100), balance: 5 })
  })

  it('leaves multipart bodies to the routes that read them under their own limits', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MAX_JSON_BYTES: String(LIMIT) } })
    const form = new FormData()
    form.append('prompt', 'p'.repeat(2 * LIMIT))
    const res = await t.app.request('/v1/images/edits', { method: 'POST', body: form })
    expect(res.status).not.toBe(413)
  })
})
