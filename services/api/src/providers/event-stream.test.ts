import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MalformedEventError, readEventParts, readEventStream } from './event-stream.ts'

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

describe('readEventParts', () => {
  const BASE64 = 'iVBORw0KGgoAAAANSUhEUgAA/+/+'.repeat(40)
  const PARTIAL =
    `{"type":"image_generation.partial_image","b64_json":"${BASE64}",` +
    '"partial_image_index":0,"size":"1024x1024"}'
  const PASSED =
    ': keep-alive\n\n' +
    `event: image_generation.partial_image\ndata: ${PARTIAL}\n\n` +
    // Another event with the same member is read whole: it is not one `accept` takes.
    'event: image_generation.completed\ndata: {"type":"image_generation.completed","b64_json":"QUJD"}\n\n' +
    // The key's words inside an earlier string are not the member; no `event:` line.
    `data: {"type":"x.partial_image","note":"\\"b64_json\\":\\"","b64_json":"QUJD"}\n\n`
  const passThrough = {
    key: 'b64_json',
    accept: (event: string | undefined, json: Record<string, unknown>) =>
      String(event ?? json.type).endsWith('.partial_image'),
  }

  /** Whole events as they were, each passed-through one put back together from its parts. */
  async function reassembled(parts: readonly string[]) {
    const events: { event: string | undefined; data: string; passed: boolean }[] = []
    let passing: { event: string | undefined; head: string; pieces: string[] } | undefined
    for await (const part of readEventParts(chunks(parts), passThrough)) {
      if (part.kind === 'begin') {
        expect(part.json).toMatchObject({
          type: expect.stringMatching(/partial_image$/),
          b64_json: '',
        })
        passing = { event: part.event, head: part.head.toString(), pieces: [] }
      } else if (part.kind === 'piece') {
        passing?.pieces.push(part.piece.toString())
      } else if (part.kind === 'end') {
        const { event, head, pieces } = passing as NonNullable<typeof passing>
        events.push({ event, data: head + pieces.join('') + part.rest.toString(), passed: true })
        passing = undefined
      } else {
        events.push({ event: part.event, data: part.data.toString(), passed: false })
      }
    }
    return events
  }

  it('passes a partial image on in pieces as it arrives, however the body is cut', async () => {
    const expected = [
      { event: 'image_generation.partial_image', data: PARTIAL, passed: true },
      {
        event: 'image_generation.completed',
        data: '{"type":"image_generation.completed","b64_json":"QUJD"}',
        passed: false,
      },
      {
        event: undefined,
        data: '{"type":"x.partial_image","note":"\\"b64_json\\":\\"","b64_json":"QUJD"}',
        passed: false,
      },
    ]
    // In one chunk the event is whole before it is looked at: nothing to pass through.
    expect((await reassembled([PASSED]))[0]?.passed).toBe(false)
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: PASSED.length - 1 }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (cuts) => {
          const sorted = [0, ...[...cuts].sort((a, b) => a - b), PASSED.length]
          const parts = sorted.slice(1).map((end, index) => PASSED.slice(sorted[index], end))
          const events = await reassembled(parts)
          expect(events.map(({ event, data }) => ({ event, data }))).toEqual(
            expected.map(({ event, data }) => ({ event, data })),
          )
          // Cut inside its base64, the partial is passed through rather than read whole.
          const partialEnd = PASSED.indexOf('"partial_image_index"')
          if (cuts.some((cut) => cut > PASSED.indexOf(BASE64) && cut < partialEnd)) {
            expect(events[0]?.passed).toBe(true)
          }
        },
      ),
    )
  })

  it('hands on the base64 before the rest of its event has arrived', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const cut = PASSED.indexOf(BASE64) + 100
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode(PASSED.slice(0, cut))
      await held
      yield new TextEncoder().encode(PASSED.slice(cut))
    }
    const parts = readEventParts(slow(), passThrough)
    expect((await parts.next()).value).toMatchObject({ kind: 'begin' })
    const first = (await parts.next()).value
    expect(first?.kind === 'piece' && first.piece.toString()).toBe(BASE64.slice(0, 100))
    release()
    const rest = []
    for await (const part of parts) {
      rest.push(part.kind)
    }
    expect(rest.slice(0, 2)).toEqual(['piece', 'end'])
  })

  it('unescapes \\/ and refuses a string it cannot pass on as it is', async () => {
    const read = async (text: string) => {
      const pieces: string[] = []
      for await (const part of readEventParts(chunks(text.split('|')), passThrough)) {
        if (part.kind === 'piece') {
          pieces.push(part.piece.toString())
        }
      }
      return pieces.join('')
    }
    const head = 'event: image_generation.partial_image\ndata: {"b64_json":"'
    expect(await read(`${head}ab\\|/cd\\/|ef","partial_image_index":0}\n\n`)).toBe('ab/cd/ef')
    await expect(read(`${head}ab|\\u0041","partial_image_index":0}\n\n`)).rejects.toThrow(
      MalformedEventError,
    )
    await expect(read(`${head}ab|cd\n\n`)).rejects.toThrow(MalformedEventError)
    await expect(read(`${head}ab|cd`)).rejects.toThrow(MalformedEventError)
  })
})
