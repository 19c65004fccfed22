import { describe, expect, it } from 'vitest'
import { captureResponse, REPLAYED_HEADER, replayResponse } from './idempotency-response.ts'

describe('captureResponse / replayResponse', () => {
  it('keeps status, result headers and the exact bytes', async () => {
    const body = new Uint8Array([0x7b, 0x7d, 0x00, 0xff, 0x89, 0x50])
    const original = new Response(body, {
      status: 201,
      headers: {
        'content-type': 'application/json',
        etag: '"abc"',
        'x-request-id': 'req_1',
        date: 'Tue, 01 Jan 2030 00:00:00 GMT',
        'x-ratelimit-remaining-requests': '9',
        ratelimit: '"key-requests";r=9;t=6',
        'retry-after': '1',
      },
    })
    const stored = await captureResponse(original)
    expect(stored.status).toBe(201)
    expect(Object.fromEntries(stored.headers)).toEqual({
      'content-type': 'application/json',
      etag: '"abc"',
    })
    expect([...stored.body]).toEqual([...body])

    const replay = replayResponse(stored, { replayed: true })
    expect(replay.status).toBe(201)
    expect(replay.headers.get('etag')).toBe('"abc"')
    expect(replay.headers.get(REPLAYED_HEADER)).toBe('true')
    expect(new Uint8Array(await replay.arrayBuffer())).toEqual(body)

    const first = replayResponse(stored, { replayed: false })
    expect(first.headers.get(REPLAYED_HEADER)).toBeNull()
  })

  it('can replay the same stored response any number of times', async () => {
    const stored = await captureResponse(new Response('hello', { status: 200 }))
    const texts = await Promise.all(
      [1, 2, 3].map(() => replayResponse(stored, { replayed: true }).text()),
    )
    expect(texts).toEqual(['hello', 'hello', 'hello'])
  })

  it('keeps a bodyless status bodyless', async () => {
    const stored = await captureResponse(new Response(null, { status: 204 }))
    const replay = replayResponse(stored, { replayed: true })
    expect(replay.status).toBe(204)
    expect(replay.body).toBeNull()
  })
})
