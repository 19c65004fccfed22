import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readEventStream } from './event-stream.ts'

async function* chunks(parts: readonly string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    yield new TextEncoder().encode(part)
  }
}

async function read(parts: readonly string[]) {
  const events: { event: string | undefined; data: string }[] = []
  for await (const { event, data } of readEventStream(chunks(parts))) {
    events.push({ event, data: data.toString('utf8') })
  }
  return events
}

const STREAM =
  ': keep-alive\n\n' +
  'event: image_generation.partial_image\ndata: {"type":"a","b64_json":"QUJD"}\n\n' +
  'data: {"line":1}\r\ndata: {"line":2}\r\n\r\n' +
  'id: 7\nretry: 10\nevent: image_generation.completed\ndata:{"type":"b"}\n\n' +
  'event: ignored without data\n\n'

const EXPECTED = [
  { event: 'image_generation.partial_image', data: '{"type":"a","b64_json":"QUJD"}' },
  { event: undefined, data: '{"line":1}\n{"line":2}' },
  { event: 'image_generation.completed', data: '{"type":"b"}' },
]

describe('readEventStream', () => {
  it('reads events, skipping comments, other fields and events without data', async () => {
    expect(await read([STREAM])).toEqual(EXPECTED)
  })

  it('gives the same events however the body is cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          const sorted = [0, ...[...cuts].sort((a, b) => a - b), STREAM.length]
          const parts = sorted.slice(1).map((end, index) => STREAM.slice(sorted[index], end))
          expect(await read(parts)).toEqual(EXPECTED)
        },
      ),
    )
  })

  it('yields an event as soon as its blank line arrives, before the body ends', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('event: first\ndata: 1\n\n')
      await held
      yield new TextEncoder().encode('event: second\ndata: 2\n\n')
    }
    const events = readEventStream(slow())
    expect((await events.next()).value?.event).toBe('first')
    release()
    expect((await events.next()).value?.event).toBe('second')
    expect((await events.next()).done).toBe(true)
  })
})
