import { type ImageGenerationStreamEvent, ImagegateError, readImageStream } from '@imagegate/client'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { noisePng, sha256Hex } from '../../testing/images.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

/**
 * Streamed generations in process: what the events say, what is stored, recorded and charged,
 * and what a refusal, a failure after the start, a hang-up and a replay do. The openai adapter
 * is the real one, over a fetch that answers OpenAI's event stream one event at a time.
 */

type Frame = { event: string; data: Record<string, unknown> }

/** An upstream event stream the test writes into, event by event. */
function upstreamStream() {
  const encoder = new TextEncoder()
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const body = new ReadableStream<Uint8Array>({
    start(given) {
      controller = given
    },
  })
  return {
    response: new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    send(frame: Frame) {
      controller.enqueue(encoder.encode(frameText(frame)))
    },
    /** Raw bytes: part of an event, as a slow upstream's socket hands them over. */
    write(text: string) {
      controller.enqueue(encoder.encode(text))
    },
    fail(reason: Error) {
      controller.error(reason)
    },
    end() {
      controller.close()
    },
  }
}

const frameText = (frame: Frame) => `event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`

const SETTINGS = { size: '1024x1024', quality: 'low', background: 'opaque', output_format: 'png' }
const USAGE = {
  input_tokens: 12,
  input_tokens_details: { image_tokens: 0, text_tokens: 12 },
  output_tokens: 272,
  total_tokens: 284,
}

let t: TestApp
afterEach(async () => {
  await t?.close()
})

const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  t.app.request('/v1/images/generations', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

async function collect(response: Response): Promise<ImageGenerationStreamEvent[]> {
  const events: ImageGenerationStreamEvent[] = []
  try {
    for await (const event of readImageStream(response)) {
      events.push(event)
    }
  } catch (error) {
    if (!(error instanceof ImagegateError)) {
      throw error
    }
    events.push({ type: 'error', error: (error.body as { error: never }).error })
  }
  return events
}

const decoded = (base64: string) => Buffer.from(base64, 'base64')

async function usage() {
  const { data } = await t.client.GET('/v1/workspaces/{id}/usage', {
    params: { path: { id: 'default' } },
  })
  return data
}

async function record(id: string) {
  const { data } = await t.client.GET('/v1/generations/{id}', { params: { path: { id } } })
  return data
}

describe('stream: true on local-sketch', () => {
  it('streams real partial renders of the image, then the stored image', async () => {
    t = await createTestApp()
    const response = await post({
      prompt: 'a lighthouse at dusk',
      size: '256x256',
      stream: true,
      partial_images: 3,
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const events = await collect(response)
    expect(events.map((event) => event.type)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ])
    const partials = events.slice(0, 3) as Extract<
      ImageGenerationStreamEvent,
      { type: 'image_generation.partial_image' }
    >[]
    const completed = events[3] as Extract<
      ImageGenerationStreamEvent,
      { type: 'image_generation.completed' }
    >
    expect(partials.map((event) => event.partial_image_index)).toEqual([0, 1, 2])
    const final = decoded(completed.b64_json)
    const hashes = new Set([sha256Hex(final)])
    for (const partial of partials) {
      expect(partial).toMatchObject({ size: '256x256', output_format: 'png', quality: 'auto' })
      const bytes = decoded(partial.b64_json)
      const meta = await sharp(bytes).metadata()
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256])
      hashes.add(sha256Hex(bytes))
    }
    // Three distinct partials, none the final image.
    expect(hashes.size).toBe(4)
    // Each partial is closer to the final image than the one before it.
    const distances = await Promise.all(
      partials.map((partial) => pixelDistance(decoded(partial.b64_json), final)),
    )
    expect(distances[0]).toBeGreaterThan(distances[1] as number)
    expect(distances[1]).toBeGreaterThan(distances[2] as number)

    expect(completed).toMatchObject({
      size: '256x256',
      output_format: 'png',
      quality: 'auto',
      background: 'auto',
      content_hash: sha256Hex(final),
    })
    expect(completed.usage).toBeUndefined()
    const stored = await t.app.request(`/v1/assets/${completed.asset_id}/content`)
    expect(Buffer.from(await stored.arrayBuffer()).equals(final)).toBe(true)
    expect(await record(completed.generation_id)).toMatchObject({
      status: 'succeeded',
      assetIds: [completed.asset_id],
    })
  })

  it('sends only the completed event when no partial images are asked for', async () => {
    t = await createTestApp()
    const events = await collect(await post({ prompt: 'a fox', size: '256x256', stream: true }))
    expect(events.map((event) => event.type)).toEqual(['image_generation.completed'])
  })

  it('writes a comment line while the model is quiet', async () => {
    t = await createTestApp({
      env: { IMAGEGATE_STREAM_KEEPALIVE_MS: '20' },
      providers: {
        local: {
          name: 'local',
          async generate() {
            await new Promise((resolve) => setTimeout(resolve, 150))
            return { images: [{ bytes: await noisePng('quiet', 64) }], warnings: [] }
          },
        },
      },
    })
    const response = await post({ prompt: 'slow', size: '256x256', stream: true })
    const text = await response.text()
    const comments = text.split('\n\n').filter((frame) => frame === ': keep-alive')
    expect(comments.length).toBeGreaterThanOrEqual(3)
    expect(text.endsWith('\n\n')).toBe(true)
    expect(text).toMatch(
      /event: image_generation\.completed\ndata: \{"type":"image_generation\.completed"/,
    )
  })
})

describe('stream: true refused before the stream starts', () => {
  it('answers 400 unsupported_parameter for a model that does not stream, and for n > 1', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MOCK_IMAGES: 'true' } })
    const dalle = await post({ prompt: 'x', model: 'dall-e-3', stream: true })
    expect(dalle.status).toBe(400)
    expect(await dalle.json()).toMatchObject({
      error: { code: 'unsupported_parameter', param: 'stream' },
    })
    const several = await post({ prompt: 'x', n: 2, stream: true })
    expect(several.status).toBe(400)
    expect(await several.json()).toMatchObject({
      error: { code: 'unsupported_parameter', param: 'n' },
    })
  })

  it('streams only the completed event where the catalog says so', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MOCK_IMAGES: 'true' } })
    const events = await collect(
      await post({
        prompt: 'x',
        model: 'gemini-2.5-flash-image',
        stream: true,
        partial_images: 3,
      }),
    )
    expect(events.map((event) => event.type)).toEqual(['image_generation.completed'])
  })

  it('says in the model list how each model streams', async () => {
    t = await createTestApp()
    const { data } = await t.client.GET('/v1/models')
    const streaming = Object.fromEntries(
      (data?.data ?? []).map((model) => [model.id, model.capabilities.streaming]),
    )
    expect(streaming).toMatchObject({
      'local-sketch': 'partial_images',
      'gpt-image-1': 'partial_images',
      'dall-e-3': 'none',
      'gemini-2.5-flash-image': 'completed_only',
    })
  })
})

describe('stream: true through an OpenAI upstream', () => {
  async function streamingApp() {
    const final = await noisePng('final', 64)
    const partials = [await noisePng('partial-0', 64), await noisePng('partial-1', 64)]
    const upstreams: ReturnType<typeof upstreamStream>[] = []
    const sentBodies: unknown[] = []
    t = await createTestApp({
      env: { IMAGEGATE_OPENAI_API_KEY: 'sk-test' },
      fetch: async (_url, init) => {
        sentBodies.push(JSON.parse(String(init.body)))
        const upstream = upstreamStream()
        upstreams.push(upstream)
        return upstream.response
      },
    })
    const partialFrame = (index: number): Frame => ({
      event: 'image_generation.partial_image',
      data: {
        type: 'image_generation.partial_image',
        b64_json: Buffer.from(partials[index] as Buffer).toString('base64'),
        partial_image_index: index,
        created_at: 1763726400,
        ...SETTINGS,
      },
    })
    const completedFrame: Frame = {
      event: 'image_generation.completed',
      data: {
        type: 'image_generation.completed',
        b64_json: final.toString('base64'),
        created_at: 1763726400,
        ...SETTINGS,
        usage: USAGE,
      },
    }
    /** The first upstream call, once it has been made. */
    const upstream = async () => {
      await expect.poll(() => upstreams.length).toBe(1)
      return upstreams[0] as ReturnType<typeof upstreamStream>
    }
    return { final, partials, sentBodies, upstream, partialFrame, completedFrame }
  }

  it('passes each partial on as it arrives, and charges the completed image', async () => {
    const s = await streamingApp()
    const before = await usage()
    const response = await post({
      prompt: 'a harbour',
      model: 'gpt-image-1',
      quality: 'low',
      stream: true,
      partial_images: 2,
    })
    expect(response.status).toBe(200)
    expect(s.sentBodies[0]).toMatchObject({ stream: true, partial_images: 2, quality: 'low' })
    const events = readImageStream(response)
    const upstream = await s.upstream()

    upstream.send(s.partialFrame(0))
    const first = await events.next()
    expect(first.value).toMatchObject({
      type: 'image_generation.partial_image',
      partial_image_index: 0,
      b64_json: (s.partials[0] as Buffer).toString('base64'),
      ...SETTINGS,
    })
    // Held while it runs (gpt-image-1 low at 1024x1024: 1.1 credits), not yet spent.
    expect((await usage())?.held).toBeGreaterThan(0)
    upstream.send(s.partialFrame(1))
    expect((await events.next()).value).toMatchObject({ partial_image_index: 1 })
    upstream.send(s.completedFrame)
    upstream.end()
    const completed = (await events.next()).value as Extract<
      ImageGenerationStreamEvent,
      { type: 'image_generation.completed' }
    >
    expect(completed).toMatchObject({
      type: 'image_generation.completed',
      b64_json: s.final.toString('base64'),
      content_hash: sha256Hex(s.final),
      usage: USAGE,
      ...SETTINGS,
      size: '64x64',
    })
    expect((await events.next()).done).toBe(true)
    const after = await usage()
    expect(after?.held).toBe(0)
    expect(after?.spent).toBeCloseTo((before?.spent ?? 0) + 1.1, 6)
  })

  it('passes a partial image’s bytes on before the upstream has finished writing its event', async () => {
    const s = await streamingApp()
    const response = await post({
      prompt: 'a harbour',
      model: 'gpt-image-1',
      quality: 'low',
      stream: true,
      partial_images: 2,
    })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let received = ''
    const readUntil = async (done: (text: string) => boolean) => {
      while (!done(received)) {
        const { value, done: ended } = await reader.read()
        if (ended) {
          throw new Error(`the stream ended after: ${received.slice(0, 200)}`)
        }
        received += Buffer.from(value).toString('latin1')
      }
    }
    const upstream = await s.upstream()
    const text = frameText(s.partialFrame(0))
    const base64 = String(s.partialFrame(0).data.b64_json)
    // The upstream has written the event's start and a third of its base64, and waits.
    const cut = text.indexOf(base64) + Math.floor(base64.length / 3)
    upstream.write(text.slice(0, cut))
    await readUntil((seen) => seen.includes(base64.slice(0, 64)))
    expect(received).toMatch(
      /^event: image_generation\.partial_image\ndata: \{"type":"image_generation\.partial_image","b64_json":"/,
    )
    expect(received).not.toContain('partial_image_index')
    // The rest arrives in pieces; the client's event is then whole and what a whole one says.
    upstream.write(text.slice(cut, cut + 7))
    upstream.write(text.slice(cut + 7))
    await readUntil((seen) => seen.includes('\n\n'))
    const [frame] = received.split('\n\n')
    expect(frame?.split('\n')[0]).toBe('event: image_generation.partial_image')
    expect(JSON.parse(frame?.split('\n')[1]?.slice('data: '.length) ?? '')).toEqual({
      type: 'image_generation.partial_image',
      b64_json: base64,
      partial_image_index: 0,
      created_at: expect.any(Number),
      ...SETTINGS,
    })
    upstream.send(s.completedFrame)
    upstream.end()
    await readUntil((seen) => seen.includes('image_generation.completed') && seen.endsWith('\n\n'))
  })

  it('closes a partial whose upstream broke off mid-event, then ends with the error event', async () => {
    const s = await streamingApp()
    const response = await post({
      prompt: 'a harbour',
      model: 'gpt-image-1',
      quality: 'low',
      stream: true,
      partial_images: 2,
    })
    const collected = collect(response)
    const upstream = await s.upstream()
    const text = frameText(s.partialFrame(0))
    upstream.write(text.slice(0, text.indexOf('"partial_image_index"') - 40))
    await new Promise((resolve) => setTimeout(resolve, 20))
    upstream.fail(new Error('socket hang up'))
    const events = await collected
    expect(events.map((event) => event.type)).toEqual(['image_generation.partial_image', 'error'])
    // Closed with what was asked for: the upstream's fields never came.
    expect(events[0]).toMatchObject({
      partial_image_index: 0,
      size: '1024x1024',
      quality: 'low',
      background: 'auto',
      output_format: 'png',
    })
    const { data: page } = await t.client.GET('/v1/generations', {
      params: { query: { limit: 1 } },
    })
    expect(page?.data[0]).toMatchObject({ status: 'failed' })
  })

  it('finishes, stores, records and charges the image of a client that hung up', async () => {
    const s = await streamingApp()
    const before = await usage()
    const response = await post({
      prompt: 'a harbour at night',
      model: 'gpt-image-1',
      quality: 'low',
      stream: true,
      partial_images: 2,
    })
    const events = readImageStream(response)
    const upstream = await s.upstream()
    upstream.send(s.partialFrame(0))
    await events.next()
    // The client goes away: its iterator cancels the body.
    await events.return()
    upstream.send(s.partialFrame(1))
    upstream.send(s.completedFrame)
    upstream.end()
    await expect.poll(async () => (await usage())?.held).toBe(0)
    const after = await usage()
    expect(after?.spent).toBeCloseTo((before?.spent ?? 0) + 1.1, 6)
    const { data: page } = await t.client.GET('/v1/generations', {
      params: { query: { limit: 1 } },
    })
    const [generation] = page?.data ?? []
    expect(generation).toMatchObject({ status: 'succeeded', prompt: 'a harbour at night' })
    const stored = await t.app.request(`/v1/assets/${generation?.assetIds[0]}/content`)
    expect(Buffer.from(await stored.arrayBuffer()).equals(s.final)).toBe(true)
  })

  it('ends with an error event after the start, and releases the credits', async () => {
    const s = await streamingApp()
    const before = await usage()
    const response = await post({
      prompt: 'a harbour',
      model: 'gpt-image-1',
      quality: 'low',
      stream: true,
      partial_images: 2,
    })
    const collected = collect(response)
    const upstream = await s.upstream()
    upstream.send(s.partialFrame(0))
    upstream.send({
      event: 'error',
      data: {
        type: 'error',
        error: { type: 'image_generation_user_error', code: 'moderation_blocked', message: 'No.' },
      },
    })
    upstream.end()
    const events = await collected
    expect(events.map((event) => event.type)).toEqual(['image_generation.partial_image', 'error'])
    expect(events[1]).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        code: 'content_policy_violation',
        requestId: expect.stringMatching(/^req_/),
      },
    })
    const after = await usage()
    expect([after?.held, after?.spent, after?.balance]).toEqual([0, before?.spent, before?.balance])
    const { data: page } = await t.client.GET('/v1/generations', {
      params: { query: { limit: 1 } },
    })
    expect(page?.data[0]).toMatchObject({ status: 'failed' })
  })

  it('replays an Idempotency-Key as the completed event alone, charged once', async () => {
    const s = await streamingApp()
    const body = {
      prompt: 'a harbour',
      model: 'gpt-image-1',
      quality: 'low',
      stream: true,
      partial_images: 2,
    }
    const headers = { 'idempotency-key': 'stream-once' }
    const first = collect(await post(body, headers))
    const upstream = await s.upstream()
    upstream.send(s.partialFrame(0))
    upstream.send(s.partialFrame(1))
    upstream.send(s.completedFrame)
    upstream.end()
    const events = await first
    expect(events).toHaveLength(3)
    const spent = (await usage())?.spent

    const replay = await post(body, headers)
    expect(replay.status).toBe(200)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(replay.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const replayed = await collect(replay)
    expect(replayed).toHaveLength(1)
    expect(replayed[0]).toEqual(events[2])
    expect(s.sentBodies).toHaveLength(1)
    expect((await usage())?.spent).toBe(spent)
  })
})

/** Mean absolute difference of two images' pixels. */
async function pixelDistance(a: Uint8Array, b: Uint8Array): Promise<number> {
  const [left, right] = await Promise.all(
    [a, b].map((bytes) => sharp(bytes).removeAlpha().raw().toBuffer()),
  )
  let total = 0
  for (let index = 0; index < (left as Buffer).length; index++) {
    total += Math.abs(((left as Buffer)[index] ?? 0) - ((right as Buffer)[index] ?? 0))
  }
  return total / (left as Buffer).length
}
