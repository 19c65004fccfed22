import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { EditInputError, EditNotSupportedError } from '../refinement/openai-edit-form.ts'
import type { InputImage } from '../refinement/types.ts'
import { noiseJpeg, noisePng } from '../testing/images.ts'
import { createOpenAIProvider } from './openai.ts'
import { editPrompt } from './openai-edit-request.ts'
import {
  fetchFailed,
  fixture,
  formEntries,
  jsonResponse,
  type Responder,
  recordingFetch,
} from './testing/recording-fetch.ts'
import { type GenerateImagesRequest, UpstreamFailure } from './types.ts'

const BASE_URL = 'https://api.openai.example/v1'
const API_KEY = 'sk-test-123'

const gptImageAnswer = fixture('openai-gpt-image-b64.json') as { data: { b64_json: string }[] }
const answerBytes = new Uint8Array(Buffer.from(gptImageAnswer.data[0]?.b64_json ?? '', 'base64'))

const photo = new Uint8Array(await noisePng('photo', 16))
const logo = new Uint8Array(await noiseJpeg('logo', 16))
const mask = new Uint8Array(
  await sharp({
    create: { width: 16, height: 16, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .png()
    .toBuffer(),
)

function input(bytes: Uint8Array, mediaType: string, extra: Partial<InputImage> = {}): InputImage {
  return { bytes, mediaType, role: 'edit_target', ...extra }
}

function request(overrides: Partial<GenerateImagesRequest> = {}): GenerateImagesRequest {
  return {
    upstreamModel: 'gpt-image-1',
    prompt: 'put a red hat on the cat',
    n: 1,
    size: { width: 1024, height: 1024 },
    inputs: [input(photo, 'image/png')],
    signal: new AbortController().signal,
    ...overrides,
  }
}

function setup(respond: Responder) {
  const recorder = recordingFetch(respond)
  const provider = createOpenAIProvider({
    baseUrl: `${BASE_URL}/`,
    apiKey: API_KEY,
    fetch: recorder.fetch,
    clock: { now: () => new Date('2026-11-21T12:00:00Z') },
  })
  return { provider, calls: recorder.calls }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (reason: unknown) => reason,
  )
}

async function gifOf(frames: number): Promise<Uint8Array> {
  const pictures = await Promise.all(
    Array.from({ length: frames }, (_, index) =>
      sharp({
        create: {
          width: 12,
          height: 10,
          channels: 4,
          background: {
            r: index === 0 ? 255 : 0,
            g: 0,
            b: index === 0 ? 0 : 100 + index * 50,
            alpha: 1,
          },
        },
      })
        .png()
        .toBuffer(),
    ),
  )
  const gif =
    frames === 1 ? sharp(pictures[0]).gif() : sharp(pictures, { join: { animated: true } }).gif()
  return new Uint8Array(await gif.toBuffer())
}

describe('what the OpenAI adapter sends for an edit', () => {
  it('posts a GPT Image edit as multipart to /images/edits, never with response_format', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({
        n: 2,
        size: { width: 1024, height: 1536 },
        mask,
        quality: 'high',
        background: 'opaque',
        inputFidelity: 'high',
        outputFormat: 'webp',
        outputCompression: 80,
        user: 'user-42',
      }),
    )

    expect(calls).toHaveLength(1)
    const [call] = calls
    expect(call).toMatchObject({ url: `${BASE_URL}/images/edits`, method: 'POST', body: undefined })
    // The fetch encodes the form and names the boundary: a fixed content-type would break it.
    expect(call?.headers).toEqual({ authorization: `Bearer ${API_KEY}` })
    expect(await formEntries(call?.form ?? new FormData())).toEqual([
      { name: 'model', value: 'gpt-image-1' },
      { name: 'prompt', value: 'put a red hat on the cat' },
      { name: 'image', filename: 'image.png', type: 'image/png', bytes: photo },
      { name: 'mask', filename: 'mask.png', type: 'image/png', bytes: mask },
      { name: 'n', value: '2' },
      { name: 'size', value: '1024x1536' },
      { name: 'quality', value: 'high' },
      { name: 'background', value: 'opaque' },
      { name: 'input_fidelity', value: 'high' },
      { name: 'output_format', value: 'webp' },
      { name: 'output_compression', value: '80' },
      { name: 'user', value: 'user-42' },
    ])
    expect(result.images.map((image) => image.bytes)).toEqual([answerBytes])
    expect(result.warnings).toEqual([])
    expect(result.sentText).toBeUndefined()
  })

  it('reads what an edit answer reports: settings, and usage with image input tokens', async () => {
    const answer = fixture('openai-gpt-image-edit-b64.json')
    const { provider } = setup(() => jsonResponse(200, answer))
    const result = await provider.generate(request({ size: { width: 1024, height: 1536 } }))
    expect(result.images.map((image) => image.bytes)).toEqual([answerBytes])
    expect(result.reported).toEqual({
      size: '1024x1536',
      quality: 'high',
      background: 'transparent',
      outputFormat: 'png',
    })
    expect(result.usage).toEqual({
      inputTokens: 339,
      inputImageTokens: 323,
      inputTextTokens: 16,
      outputTokens: 6240,
      outputImageTokens: 6208,
      outputTextTokens: 32,
      totalTokens: 6579,
    })
  })

  it('sends several images as image[] and tells the model what each one is', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({
        prompt: 'put the logo on the mug',
        inputs: [
          input(photo, 'image/png'),
          input(logo, 'image/jpeg', { role: 'logo', displayName: 'Acme' }),
        ],
        size: undefined,
      }),
    )
    const sent =
      'put the logo on the mug\n\n' +
      'Image 1 is the image to edit: apply the instruction to it.\n' +
      "Image 2 is the logo 'Acme': reproduce it exactly, without redrawing, recolouring or distorting it."
    expect(await formEntries(calls[0]?.form ?? new FormData())).toEqual([
      { name: 'model', value: 'gpt-image-1' },
      { name: 'prompt', value: sent },
      { name: 'image[]', filename: 'image-1.png', type: 'image/png', bytes: photo },
      { name: 'image[]', filename: 'image-2.jpg', type: 'image/jpeg', bytes: logo },
      { name: 'n', value: '1' },
    ])
    expect(result.sentText).toBe(sent)
  })

  it('asks dall-e-2 for base64 and names what it does not take', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({
        upstreamModel: 'dall-e-2',
        size: { width: 512, height: 512 },
        mask,
        quality: 'high',
        inputFidelity: 'low',
        style: 'vivid',
        moderation: 'low',
        seed: 3,
      }),
    )
    expect(await formEntries(calls[0]?.form ?? new FormData())).toEqual([
      { name: 'model', value: 'dall-e-2' },
      { name: 'prompt', value: 'put a red hat on the cat' },
      { name: 'image', filename: 'image.png', type: 'image/png', bytes: photo },
      { name: 'mask', filename: 'mask.png', type: 'image/png', bytes: mask },
      { name: 'n', value: '1' },
      { name: 'size', value: '512x512' },
      { name: 'response_format', value: 'b64_json' },
    ])
    expect(result.warnings).toEqual([
      'quality is accepted only by GPT Image models; not sent to dall-e-2',
      'input_fidelity is accepted only by GPT Image models; not sent to dall-e-2',
      'moderation is not an OpenAI edits parameter; not sent to dall-e-2',
      'style is not an OpenAI edits parameter; not sent to dall-e-2',
      'seed is not an OpenAI Images parameter; seed 3 was not sent',
    ])
  })

  it('names an earlier chain and the strict content rules it cannot use', async () => {
    const { provider } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({
        chain: [{ prompt: 'a cat', inputs: [], modelTurn: {} }],
        strictContent: true,
      }),
    )
    expect(result.warnings).toEqual([
      "OpenAI Images has no conversation; the 1 earlier turn(s) were not sent, only this request's images",
      'the strict content rules are not added to OpenAI prompts',
    ])
  })

  it('downloads a URL answer into bytes, as for generations', async () => {
    const imageUrl = 'https://files.example/edited.png'
    const { provider, calls } = setup((call) =>
      call.url === imageUrl
        ? new Response(answerBytes, { headers: { 'content-type': 'image/png' } })
        : jsonResponse(200, { created: 1, data: [{ url: imageUrl }] }),
    )
    const result = await provider.generate(request({ upstreamModel: 'flux-kontext' }))
    expect(calls.map((call) => [call.method, call.url])).toEqual([
      ['POST', `${BASE_URL}/images/edits`],
      ['GET', imageUrl],
    ])
    expect(calls[1]?.headers.authorization).toBeUndefined()
    expect(result.images).toEqual([
      expect.objectContaining({ bytes: answerBytes, declaredMediaType: 'image/png' }),
    ])
  })
})

describe('GIF inputs', () => {
  it('are sent as a PNG of the same picture', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const gif = await gifOf(1)
    const result = await provider.generate(request({ inputs: [input(gif, 'image/gif')] }))
    const [, , image] = await formEntries(calls[0]?.form ?? new FormData())
    expect(image).toMatchObject({ name: 'image', filename: 'image.png', type: 'image/png' })
    const sent = image && 'bytes' in image ? image.bytes : new Uint8Array()
    expect(await sharp(sent).metadata()).toMatchObject({ format: 'png', width: 12, height: 10 })
    const pixels = async (bytes: Uint8Array) => sharp(bytes).ensureAlpha().raw().toBuffer()
    expect((await pixels(sent)).equals(await pixels(gif))).toBe(true)
    expect(result.warnings).toEqual([])
  })

  it('lets dall-e-2, which takes PNG only, edit a GIF', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    await provider.generate(
      request({ upstreamModel: 'dall-e-2', inputs: [input(await gifOf(1), 'image/gif')] }),
    )
    const entries = await formEntries(calls[0]?.form ?? new FormData())
    expect(entries[2]).toMatchObject({ name: 'image', type: 'image/png' })
  })

  it('send only the first frame of an animation, and say so', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({ inputs: [input(photo, 'image/png'), input(await gifOf(3), 'image/gif')] }),
    )
    const [, , , second] = await formEntries(calls[0]?.form ?? new FormData())
    const sent = second && 'bytes' in second ? second.bytes : new Uint8Array()
    expect(second).toMatchObject({ name: 'image[]', filename: 'image-2.png', type: 'image/png' })
    // The first frame is red; the others are shades of blue.
    const firstPixel = [...(await sharp(sent).raw().toBuffer()).subarray(0, 3)]
    expect(firstPixel).toEqual([255, 0, 0])
    expect(result.warnings).toEqual([
      'image 2 is an animated GIF of 3 frames; only its first frame was sent, as PNG',
    ])
  })

  it('that cannot be read are refused with EditInputError before anything is sent', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const broken = new TextEncoder().encode('GIF89a but nothing after')
    const error = await rejectionOf(
      provider.generate(
        request({ inputs: [input(photo, 'image/png'), input(broken, 'image/gif')] }),
      ),
    )
    expect(error).toBeInstanceOf(EditInputError)
    expect(error).toMatchObject({
      param: 'image',
      message: 'image 2 is a GIF that could not be converted to PNG',
    })
    expect(calls).toHaveLength(0)
  })
})

describe('edits the model cannot do', () => {
  it('dall-e-3 throws EditNotSupportedError and sends nothing', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const error = await rejectionOf(
      provider.generate(
        request({ upstreamModel: 'dall-e-3', inputs: [input(await gifOf(1), 'image/gif')] }),
      ),
    )
    expect(error).toBeInstanceOf(EditNotSupportedError)
    expect(error).toMatchObject({ model: 'dall-e-3' })
    expect(calls).toHaveLength(0)
  })

  it.each<[string, Partial<GenerateImagesRequest>, string]>([
    [
      'dall-e-2 with two images',
      {
        upstreamModel: 'dall-e-2',
        inputs: [input(photo, 'image/png'), input(photo, 'image/png')],
      },
      'dall-e-2 edits exactly one image; got 2',
    ],
    [
      'dall-e-2 with a JPEG',
      { upstreamModel: 'dall-e-2', inputs: [input(logo, 'image/jpeg')] },
      'dall-e-2 edits only PNG images; got image/jpeg',
    ],
    [
      'GPT Image with an AVIF',
      { inputs: [input(photo, 'image/png'), input(photo, 'image/avif')] },
      'gpt-image-1 edits PNG, JPEG and WebP images; image 2 is image/avif',
    ],
  ])('%s throws EditInputError and sends nothing', async (_name, overrides, message) => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const error = await rejectionOf(provider.generate(request(overrides)))
    expect(error).toBeInstanceOf(EditInputError)
    expect(error).toMatchObject({ message })
    expect(calls).toHaveLength(0)
  })
})

describe('how the OpenAI adapter classifies edit failures', () => {
  it.each<[string, Responder, Partial<UpstreamFailure>]>([
    [
      '400 moderation_blocked',
      () => jsonResponse(400, fixture('openai-error-moderation-blocked.json')),
      { kind: 'content_policy', stage: 'input', status: 400 },
    ],
    [
      '400 invalid mask',
      () =>
        jsonResponse(400, {
          error: { message: 'Invalid mask image format', type: 'invalid_request_error' },
        }),
      { kind: 'rejected', status: 400 },
    ],
    [
      '429',
      () => jsonResponse(429, fixture('openai-error-rate-limit.json')),
      { kind: 'rate_limited' },
    ],
    ['503', () => jsonResponse(503, ''), { kind: 'unavailable', status: 503 }],
    ['500', () => jsonResponse(500, fixture('openai-error-server.json')), { kind: 'ambiguous' }],
    ['200 with no images', () => jsonResponse(200, { data: [] }), { kind: 'bad_response' }],
    [
      'refused connection',
      () => {
        throw fetchFailed('ECONNREFUSED')
      },
      { kind: 'not_sent' },
    ],
  ])('%s', async (_name, respond, expected) => {
    const { provider, calls } = setup(respond)
    const error = await rejectionOf(provider.generate(request()))
    expect(error).toBeInstanceOf(UpstreamFailure)
    expect(error).toMatchObject({ provider: 'openai', ...expected })
    expect(calls.map((call) => call.url)).toEqual([`${BASE_URL}/images/edits`])
  })
})

describe('editPrompt', () => {
  it.each<[string, Pick<InputImage, 'role' | 'displayName'>[], boolean]>([
    ['one unnamed edit target: as given', [{ role: 'edit_target' }], false],
    [
      'several unnamed edit targets: as given',
      [{ role: 'edit_target' }, { role: 'edit_target' }],
      false,
    ],
    ['a named edit target: framed', [{ role: 'edit_target', displayName: 'kitchen' }], true],
    ['a reference: framed', [{ role: 'reference' }], true],
    ['an edit target and a style: framed', [{ role: 'edit_target' }, { role: 'style' }], true],
  ])('%s', (_name, inputs, framed) => {
    const prompt = editPrompt('make it night', inputs)
    expect(prompt === 'make it night').toBe(!framed)
    if (framed) {
      expect(prompt).toMatch(/^make it night\n\nImage 1 is /)
      expect(prompt.split('\n').filter((line) => line.startsWith('Image '))).toHaveLength(
        inputs.length,
      )
    }
  })
})
