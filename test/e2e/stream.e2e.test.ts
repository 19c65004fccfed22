import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { noisePng, sha256Hex } from '../../services/api/src/testing/images.ts'
import { type Gateway, startGateway } from '../support/gateway.ts'

/**
 * Streamed generations through the real server, read by the official openai SDK unchanged, with
 * the openai provider pointed at a fake OpenAI that streams its partial images some time apart.
 */

const now = () => performance.timeOrigin + performance.now()
const EVENT_DELAY_MS = 400

let gw: Gateway
let openai: OpenAI
beforeAll(async () => {
  // A short keep-alive: every stream below also carries comment lines the SDK must skip.
  gw = await startGateway({ env: { IMAGEGATE_STREAM_KEEPALIVE_MS: '100' } })
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.close()
})
beforeEach(() => {
  gw.fake.reset()
})

async function usage() {
  const { data } = await gw.client.GET('/v1/workspaces/{id}/usage', {
    params: { path: { id: 'default' } },
  })
  return data
}

async function assetBytes(id: string): Promise<Buffer> {
  const response = await fetch(`${gw.url}/v1/assets/${id}/content`, {
    headers: { authorization: `Bearer ${gw.key}` },
  })
  return Buffer.from(await response.arrayBuffer())
}

describe('openai SDK: client.images.generate({ stream: true })', () => {
  it('gets each partial image before the upstream has finished, then the stored image', async () => {
    // The upstream does not finish until the client has both partials: were imagegate to wait
    // for the whole answer, this test would time out.
    let release!: () => void
    const completedAfter = new Promise<void>((resolve) => {
      release = resolve
    })
    gw.fake.script([{ mode: 'ok', eventDelayMs: EVENT_DELAY_MS, completedAfter }])
    const stream = await openai.images.generate({
      model: 'gpt-image-1',
      prompt: 'a lighthouse',
      quality: 'low',
      stream: true,
      partial_images: 2,
    })
    const received: { event: OpenAI.ImageGenStreamEvent; at: number }[] = []
    for await (const event of stream) {
      received.push({ event, at: now() })
      if (event.type === 'image_generation.partial_image' && event.partial_image_index === 1) {
        release()
      }
    }
    const upstream = gw.fake.calls[0]?.events ?? []
    expect(upstream.map((event) => event.type)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ])
    expect(received.map(({ event }) => event.type)).toEqual(upstream.map((event) => event.type))
    expect(gw.fake.calls[0]?.body).toMatchObject({ stream: true, partial_images: 2 })

    const finishedAt = upstream[2]?.sentAt ?? 0
    for (const index of [0, 1]) {
      const { event, at } = received[index] as (typeof received)[number]
      expect(event).toMatchObject({
        type: 'image_generation.partial_image',
        partial_image_index: index,
      })
      expect(event.b64_json).toBe(upstream[index]?.base64)
      // Passed through: at the client after the upstream sent it, before the upstream finished.
      expect(at).toBeGreaterThanOrEqual(upstream[index]?.sentAt ?? Number.POSITIVE_INFINITY)
      expect(at).toBeLessThan(finishedAt)
    }

    const completed = received[2]?.event as OpenAI.ImageGenCompletedEvent & {
      asset_id: string
      content_hash: string
      generation_id: string
    }
    const image = Buffer.from(gw.fake.image)
    expect(Buffer.from(completed.b64_json, 'base64').equals(image)).toBe(true)
    expect(completed).toMatchObject({
      size: '720x720',
      quality: 'low',
      background: 'opaque',
      output_format: 'png',
      content_hash: sha256Hex(image),
      usage: { input_tokens: 12, output_tokens: 1056, total_tokens: 1068 },
    })
    expect((await assetBytes(completed.asset_id)).equals(image)).toBe(true)
    const { data: record } = await gw.client.GET('/v1/generations/{id}', {
      params: { path: { id: completed.generation_id } },
    })
    expect(record).toMatchObject({ status: 'succeeded', assetIds: [completed.asset_id] })
  })

  it('streams the local renderer’s partial renders offline', async () => {
    const stream = await openai.images.generate({
      model: 'local-sketch',
      prompt: 'a paper boat',
      size: '256x256',
      stream: true,
      partial_images: 2,
    })
    const events: OpenAI.ImageGenStreamEvent[] = []
    for await (const event of stream) {
      events.push(event)
    }
    expect(events.map((event) => event.type)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ])
    const images = events.map((event) => Buffer.from(event.b64_json, 'base64'))
    expect(new Set(images.map((bytes) => sha256Hex(bytes))).size).toBe(3)
    const completed = events[2] as OpenAI.ImageGenCompletedEvent & { asset_id: string }
    expect((await assetBytes(completed.asset_id)).equals(images[2] as Buffer)).toBe(true)
    expect(gw.fake.calls).toHaveLength(0)
  })

  it('throws the error event of a failure after the stream started, with the partial before it', async () => {
    gw.fake.script(['stream_error_after_partial'])
    const before = await usage()
    const stream = await openai.images.generate({
      model: 'gpt-image-1',
      prompt: 'a lighthouse',
      stream: true,
      partial_images: 2,
    })
    const types: string[] = []
    const error = await (async () => {
      for await (const event of stream) {
        types.push(event.type)
      }
    })().then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(types).toEqual(['image_generation.partial_image'])
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      code: 'upstream_error',
      requestId: expect.stringMatching(/^req_/),
    })
    const after = await usage()
    expect([after?.held, after?.spent]).toEqual([0, before?.spent])
  })

  it('replays an Idempotency-Key as the completed event alone, with one upstream call', async () => {
    const body = {
      model: 'gpt-image-1',
      prompt: 'a replayed lighthouse',
      stream: true as const,
      partial_images: 2,
    }
    // The openai client sends no Idempotency-Key of its own; a caller sets the header.
    const keyed = { headers: { 'Idempotency-Key': 'e2e-stream' } }
    const first: OpenAI.ImageGenStreamEvent[] = []
    for await (const event of await openai.images.generate(body, keyed)) {
      first.push(event)
    }
    const replayed: OpenAI.ImageGenStreamEvent[] = []
    for await (const event of await openai.images.generate(body, keyed)) {
      replayed.push(event)
    }
    expect(first.map((event) => event.type)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ])
    expect(replayed).toEqual([first[2]])
    expect(gw.fake.calls).toHaveLength(1)
  })
})

describe('a streamed request whose client hangs up', () => {
  it('still finishes, stores, records and charges the image', async () => {
    gw.fake.script([{ mode: 'ok', eventDelayMs: EVENT_DELAY_MS }])
    const before = await usage()
    const controller = new AbortController()
    const response = await fetch(`${gw.url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-image-1',
        prompt: 'an abandoned lighthouse',
        quality: 'low',
        stream: true,
        partial_images: 2,
      }),
      signal: controller.signal,
    })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    while (!text.includes('image_generation.partial_image')) {
      const { value } = await reader.read()
      text += new TextDecoder().decode(value)
    }
    controller.abort()
    await expect
      .poll(async () => (await usage())?.spent, { timeout: 10_000 })
      .toBeCloseTo((before?.spent ?? 0) + 1.1, 6)
    expect((await usage())?.held).toBe(0)
    const { data: page } = await gw.client.GET('/v1/generations', {
      params: { query: { limit: 1 } },
    })
    const [generation] = page?.data ?? []
    expect(generation).toMatchObject({ status: 'succeeded', prompt: 'an abandoned lighthouse' })
    const stored = await assetBytes(generation?.assetIds[0] ?? '')
    expect(stored.equals(Buffer.from(gw.fake.image))).toBe(true)
  })
})

describe('keep-alive and edits', () => {
  it('writes comment lines while the upstream is quiet', async () => {
    // No partial images: the upstream answers JSON, after a while.
    gw.fake.script([{ mode: 'ok', delayMs: EVENT_DELAY_MS }])
    const response = await fetch(`${gw.url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-image-1', prompt: 'quiet', stream: true }),
    })
    const frames = (await response.text()).split('\n\n')
    expect(frames.filter((frame) => frame === ': keep-alive').length).toBeGreaterThanOrEqual(2)
    expect(frames.at(-2)).toMatch(/^event: image_generation\.completed\n/)
  })

  it('streams an edit with client.images.edit({ stream: true })', async () => {
    gw.fake.script([{ mode: 'ok', eventDelayMs: 50 }])
    const photo = await noisePng('stream-edit', 64)
    const stream = await openai.images.edit({
      model: 'gpt-image-1',
      image: await toFile(photo, 'photo.png', { type: 'image/png' }),
      prompt: 'make it blue',
      size: '1024x1024',
      stream: true,
      partial_images: 1,
    })
    const events: OpenAI.ImageEditStreamEvent[] = []
    for await (const event of stream) {
      events.push(event)
    }
    expect(events.map((event) => event.type)).toEqual([
      'image_edit.partial_image',
      'image_edit.completed',
    ])
    expect(gw.fake.calls[0]?.body).toMatchObject({ stream: 'true', partial_images: '1' })
    expect(events[1]).toMatchObject({ size: '1024x1024', asset_id: expect.stringMatching(/^ast_/) })
  })
})
