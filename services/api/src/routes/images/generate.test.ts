import { createHash } from 'node:crypto'
import { ImagegateError } from '@imagegate/client'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { createLocalProvider } from '../../providers/local.ts'
import type { ImageProvider } from '../../providers/types.ts'
import { createAssetTestApp, noisePng } from '../../testing/assets.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'
import { serializeAnswer } from './answer.ts'

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Awaits a request the typed client rejects, and returns its ImagegateError. */
async function failure(request: Promise<unknown>): Promise<ImagegateError> {
  const error = await request.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(ImagegateError)
  return error as ImagegateError
}

describe('POST /v1/images/generations', () => {
  let t: TestApp
  afterEach(async () => {
    await t.close()
  })

  // Loosely typed on purpose: the validation cases send what the schema forbids.
  const generate = (body: Record<string, unknown>) =>
    t.client.POST('/v1/images/generations', { body: body as never })

  it('answers from local-sketch by default with a stored PNG of the requested size', async () => {
    t = await createTestApp()
    const { data, response } = await generate({ prompt: 'a lighthouse at dusk', size: '256x256' })
    expect(data?.model).toBe('local-sketch')
    expect(data?.cost).toBe(0)
    expect(data?.warnings).toEqual([])
    expect(data?.generation_id).toMatch(/^gen_/)
    expect(data?.created).toBeCloseTo(Date.now() / 1000, -1)
    expect(response.headers.get('x-imagegate-overhead-ms')).toMatch(/^\d+(\.\d+)?$/)
    const [image] = data?.data ?? []
    expect(image).toMatchObject({ media_type: 'image/png', width: 256, height: 256 })
    const bytes = Buffer.from(image?.b64_json ?? '', 'base64')
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE)
    expect(image?.content_hash).toBe(sha256(bytes))
    expect(image?.url).toBeUndefined()
  })

  it('is deterministic for a prompt and seed, and differs for another seed', async () => {
    t = await createTestApp()
    const body = { prompt: 'a red fox', size: '256x256', seed: 42 }
    const first = (await generate(body)).data?.data[0]
    const again = (await generate(body)).data?.data[0]
    const other = (await generate({ ...body, seed: 43 })).data?.data[0]
    expect(again?.b64_json).toBe(first?.b64_json)
    // The same bytes are the same asset: one row per (workspace, hash).
    expect(again?.asset_id).toBe(first?.asset_id)
    expect(other?.content_hash).not.toBe(first?.content_hash)
  })

  it('returns n different images, each stored as an asset with the bytes it answered', async () => {
    t = await createTestApp()
    const { data } = await generate({ prompt: 'three boats', n: 3, size: '256x256' })
    const images = data?.data ?? []
    expect(images).toHaveLength(3)
    expect(new Set(images.map((image) => image.content_hash)).size).toBe(3)
    expect(new Set(images.map((image) => image.asset_id)).size).toBe(3)
    for (const image of images) {
      const response = await t.app.request(`/v1/assets/${image.asset_id}/content`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('image/png')
      const stored = Buffer.from(await response.arrayBuffer())
      expect(stored.equals(Buffer.from(image.b64_json ?? '', 'base64'))).toBe(true)
      expect(sha256(stored)).toBe(image.content_hash)
    }
  })

  it('answers url mode with a link to the stored asset, and no base64', async () => {
    t = await createTestApp()
    const { data } = await generate({
      prompt: 'a url please',
      size: '256x256',
      response_format: 'url',
    })
    const [image] = data?.data ?? []
    expect(image?.b64_json).toBeUndefined()
    // A signed URL: it works where no Authorization header can be sent.
    expect(image?.url).toMatch(
      new RegExp(
        `^http://imagegate\\.test/v1/assets/${image?.asset_id}/content\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`,
      ),
    )
    const response = await t.app.request(image?.url ?? '')
    expect(response.status).toBe(200)
    expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(image?.content_hash)
  })

  it('uses IMAGEGATE_PUBLIC_URL as the origin of url answers', async () => {
    t = await createTestApp({ env: { IMAGEGATE_PUBLIC_URL: 'https://img.example.com/' } })
    const { data } = await generate({ prompt: 'public', size: '256x256', response_format: 'url' })
    expect(data?.data[0]?.url).toMatch(
      new RegExp(`^https://img\\.example\\.com/v1/assets/${data?.data[0]?.asset_id}/content\\?`),
    )
  })

  it.each([
    ['jpeg', 'image/jpeg', [0xff, 0xd8, 0xff]],
    ['webp', 'image/webp', [0x52, 0x49, 0x46, 0x46]],
  ])('answers output_format %s as %s, stored with that type', async (format, mediaType, magic) => {
    t = await createTestApp()
    const { data } = await generate({
      prompt: 'formats',
      size: '256x256',
      output_format: format,
      output_compression: 60,
    })
    const [image] = data?.data ?? []
    expect(image?.media_type).toBe(mediaType)
    expect([...Buffer.from(image?.b64_json ?? '', 'base64').subarray(0, magic.length)]).toEqual(
      magic,
    )
    const response = await t.app.request(`/v1/assets/${image?.asset_id}/content`)
    expect(response.headers.get('content-type')).toBe(mediaType)
  })

  it('reports every setting the model cannot honour in warnings', async () => {
    t = await createTestApp()
    const { data } = await generate({
      prompt: 'warn me',
      size: '256x256',
      style: 'vivid',
      quality: 'hd',
      background: 'transparent',
    })
    expect(data?.warnings).toEqual(
      expect.arrayContaining([
        'style=vivid is not supported by local-sketch; ignored',
        'quality=hd is not supported by local-sketch; ignored',
        'background=transparent is not supported by local-sketch; ignored',
      ]),
    )
    expect(data?.data).toHaveLength(1)
  })

  it.each([
    [
      'an unknown model',
      { model: 'no-such-model' },
      400,
      'model_not_found',
      'model',
      /Unknown model 'no-such-model'/,
    ],
    [
      'a model whose provider has no key',
      { model: 'gpt-image-1' },
      400,
      'model_not_found',
      'model',
      /IMAGEGATE_OPENAI_API_KEY/,
    ],
    [
      'a Gemini model without a key',
      { model: 'gemini-2.5-flash-image' },
      400,
      'model_not_found',
      'model',
      /IMAGEGATE_GEMINI_API_KEY/,
    ],
    [
      'grounding on a model without it',
      { grounding: true },
      400,
      'unsupported_parameter',
      'grounding',
      /grounding/,
    ],
    ['an empty prompt', { prompt: '' }, 400, 'invalid_request', 'prompt', /prompt/],
    ['n = 11', { n: 11 }, 400, 'invalid_request', 'n', /n/],
    ['n = 0', { n: 0 }, 400, 'invalid_request', 'n', /n/],
    ['a size outside the list', { size: '333x333' }, 400, 'invalid_request', 'size', /size/],
    [
      'an unknown response_format',
      { response_format: 'png' },
      400,
      'invalid_request',
      'response_format',
      /response_format/,
    ],
  ])('rejects %s', async (_name, change, status, code, param, message) => {
    t = await createTestApp()
    const error = await failure(generate({ prompt: 'a cat', size: '256x256', ...change }))
    expect(error.status).toBe(status)
    expect(error.code).toBe(code)
    expect(error.param).toBe(param)
    expect(error.message).toMatch(message)
    expect(error.requestId).toMatch(/^req_/)
    expect(error.headers.get('x-should-retry')).toBe('false')
  })

  it('answers every model from the local renderer at no cost in mock mode', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MOCK_IMAGES: 'true' } })
    const { data } = await generate({ model: 'gpt-image-1', prompt: 'mocked', quality: 'high' })
    expect(data?.model).toBe('gpt-image-1')
    expect(data?.cost).toBe(0)
    expect(data?.data[0]).toMatchObject({ media_type: 'image/png', width: 1024, height: 1024 })
    const record = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: data?.generation_id ?? '' } },
    })
    expect(record.data).toMatchObject({
      model: 'gpt-image-1',
      provider: 'local',
      status: 'succeeded',
      cost: 0,
    })
  })

  it('shares one provider call between identical in-flight requests with an explicit seed', async () => {
    const local = createLocalProvider()
    let calls = 0
    const counting: ImageProvider = {
      name: 'local',
      async generate(request) {
        calls += 1
        await new Promise((resolve) => setTimeout(resolve, 50))
        return local.generate(request)
      },
    }
    t = await createTestApp({ providers: { local: counting } })
    const body = { prompt: 'shared', size: '256x256', seed: 7 }
    const answers = await Promise.all([generate(body), generate(body), generate(body)])
    expect(calls).toBe(1)
    const ids = answers.map((answer) => answer.data?.data[0]?.asset_id)
    expect(new Set(ids).size).toBe(1)

    // Without a seed each request is its own generation, and a settled call is not a cache.
    await Promise.all([
      generate({ prompt: 'shared', size: '256x256' }),
      generate({ prompt: 'shared', size: '256x256' }),
    ])
    expect(calls).toBe(3)
    await generate(body)
    expect(calls).toBe(4)
  })

  it('never logs image bytes', async () => {
    t = await createTestApp()
    await generate({ prompt: 'no bytes in logs', n: 2, size: '256x256' })
    for (const line of t.logLines) {
      expect(JSON.stringify(line)).not.toMatch(/[A-Za-z0-9+/]{200,}/)
    }
  })

  it('passes on the base64 the provider sent, in exactly the JSON JSON.stringify would give', async () => {
    const png = await noisePng('verbatim', 64)
    const base64 = Buffer.from(png).toString('base64')
    const provider: ImageProvider = {
      name: 'local',
      async generate() {
        return {
          images: [{ bytes: png, base64, revisedPrompt: 'a "quoted" café ☕ \u2028 </script>' }],
          warnings: [],
        }
      },
    }
    t = await createTestApp({ providers: { local: provider } })
    const response = await t.app.request('/v1/images/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'verbatim', size: '256x256' }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    const text = await response.text()
    const answer = JSON.parse(text)
    expect(answer.data[0].b64_json).toBe(base64)
    expect(answer.data[0].revised_prompt).toBe('a "quoted" café ☕ \u2028 </script>')
    expect(answer.data[0].content_hash).toBe(sha256(png))
    expect(text).toBe(JSON.stringify(answer))
  })

  it('refuses an image that does not decode, and neither records nor keeps it', async () => {
    const png = await noisePng('garbled', 64)
    // Same length and chunk layout, pixels garbled: the IDAT chunk's CRC no longer matches.
    png.fill(0x5a, 60, 400)
    const provider: ImageProvider = {
      name: 'local',
      async generate() {
        return { images: [{ bytes: png }], warnings: [] }
      },
    }
    const a = await createAssetTestApp({ providers: { local: provider } })
    t = a
    const response = await a.app.request('/v1/images/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'garbled', size: '256x256' }),
    })
    expect(response.status).toBe(502)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('upstream_error')
    expect(body.error.message).toMatch(/does not decode/)
    expect(a.files().blobs).toEqual([])
    const assets = await a.client.GET('/v1/assets', {})
    expect(assets.data?.data).toEqual([])
    const generations = await a.client.GET('/v1/generations', {})
    expect(generations.data?.data[0]).toMatchObject({ status: 'failed', assetIds: [] })
  })
})

describe('serializeAnswer', () => {
  const image = fc.record({
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      // Longer than one piece of the encoder.
      fc.uint8Array({ minLength: 60_000, maxLength: 80_000 }),
    ),
    given: fc.constantFrom('string', 'ascii bytes', 'none'),
    revisedPrompt: fc.option(fc.string()),
  })

  it('is JSON.stringify with b64_json first in each image, whatever the strings hold', () => {
    fc.assert(
      fc.property(
        fc.array(image, { minLength: 1, maxLength: 3 }),
        fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }),
        fc.option(fc.nat()),
        (images, warnings, tokens) => {
          const answer = {
            created: 1795255200,
            data: images.map(({ revisedPrompt }, index) => ({
              ...(revisedPrompt === null ? {} : { revised_prompt: revisedPrompt }),
              asset_id: `ast_${index}`,
              content_hash: 'f'.repeat(64),
              media_type: 'image/png' as const,
              width: 1024,
              height: 1024,
            })),
            ...(tokens === null ? {} : { usage: { total_tokens: tokens } }),
            generation_id: 'gen_1',
            model: 'gpt-image-1',
            cost: 4.2,
            warnings,
          }
          const sources = images.map(({ bytes, given }) => {
            const text = Buffer.from(bytes).toString('base64')
            return given === 'string'
              ? { bytes, base64: text }
              : given === 'ascii bytes'
                ? { bytes, base64: new Uint8Array(Buffer.from(text, 'latin1')) }
                : { bytes }
          })
          const expected = {
            ...answer,
            data: answer.data.map((item, index) => ({
              b64_json: Buffer.from(images[index]?.bytes ?? []).toString('base64'),
              ...item,
            })),
          }
          const bytes = Buffer.concat(serializeAnswer(answer, sources))
          expect(bytes.toString('utf8')).toBe(JSON.stringify(expected))
          expect(Buffer.concat(serializeAnswer(answer, [])).toString()).toBe(JSON.stringify(answer))
        },
      ),
      { numRuns: 200 },
    )
  })
})
