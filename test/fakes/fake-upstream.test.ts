import { createHash } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createGeminiProvider } from '../../services/api/src/providers/gemini.ts'
import type { Fetch } from '../../services/api/src/providers/http-errors.ts'
import { createOpenAIProvider } from '../../services/api/src/providers/openai.ts'
import { createPooledFetch } from '../../services/api/src/providers/pooled-fetch.ts'
import { failureOf } from '../../services/api/src/providers/testing/recording-fetch.ts'
import type {
  GenerateImagesRequest,
  ImageProvider,
  UpstreamFailure,
} from '../../services/api/src/providers/types.ts'
import type { InputImage } from '../../services/api/src/refinement/types.ts'
import { noiseJpeg } from '../../services/api/src/testing/images.ts'
import { type FakeUpstream, type Fault, startFakeUpstream } from './fake-upstream.ts'
import { noisePng } from './noise-png.ts'

let up: FakeUpstream

beforeAll(async () => {
  up = await startFakeUpstream()
})
afterAll(async () => {
  await up.close()
})
beforeEach(() => {
  up.reset()
})

function openai(options: { timeoutMs?: number; fetch?: Fetch } = {}): ImageProvider {
  return createOpenAIProvider({ baseUrl: `${up.url}/v1`, apiKey: 'sk-fake', fetch, ...options })
}

function gemini(options: { timeoutMs?: number } = {}): ImageProvider {
  return createGeminiProvider({
    baseUrl: `${up.url}/v1beta`,
    apiKey: 'fake-key',
    fetch,
    ...options,
  })
}

function request(
  model: string,
  overrides: Partial<GenerateImagesRequest> = {},
): GenerateImagesRequest {
  return {
    upstreamModel: model,
    prompt: 'a lighthouse at dusk',
    n: 1,
    size: { width: 1024, height: 1024 },
    signal: AbortSignal.timeout(10_000),
    ...overrides,
  }
}

/** Deep equality walks a 1.5 MB array element by element (seconds); compare buffers instead. */
function isUpstreamImage(bytes: Uint8Array | undefined): boolean {
  return bytes !== undefined && Buffer.from(up.image).equals(bytes)
}

const generations = () => up.calls.filter((call) => call.shape !== 'file')

/** Fault modes and how the OpenAI adapter reads them, on generations and edits alike. */
const OPENAI_FAULTS: [string, Fault, Partial<UpstreamFailure>][] = [
  [
    '429 Retry-After seconds',
    { mode: 'rate_limit_seconds', retryAfterSeconds: 2 },
    { kind: 'rate_limited', status: 429, retryAfterMs: 2000 },
  ],
  ['429 insufficient_quota', 'insufficient_quota', { kind: 'quota', status: 429 }],
  ['401', 'unauthorized', { kind: 'auth', status: 401 }],
  ['500', 'server_error_500', { kind: 'ambiguous', status: 500 }],
  ['502', 'bad_gateway_502', { kind: 'unavailable', status: 502 }],
  ['503', 'unavailable_503', { kind: 'unavailable', status: 503 }],
  ['reset after headers', 'reset_after_headers', { kind: 'ambiguous' }],
  ['malformed JSON', 'malformed_json', { kind: 'bad_response', status: 200 }],
  ['truncated base64', 'truncated_base64', { kind: 'bad_response', status: 200 }],
  ['content_policy_violation', 'prompt_blocked', { kind: 'content_policy', stage: 'input' }],
  ['200 without an image', 'no_image', { kind: 'bad_response', status: 200 }],
]
describe('the fake upstream itself', () => {
  it('serves a large, incompressible PNG by default', () => {
    expect(up.image.length).toBeGreaterThan(1_400_000)
    expect([...up.image.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  })

  it('answers unknown routes with 404 and still counts them', async () => {
    const response = await fetch(`${up.url}/v1/models`)
    expect(response.status).toBe(404)
    expect(up.calls).toMatchObject([{ shape: 'unknown', method: 'GET', path: '/v1/models' }])
  })

  it('plays a script in order, then the default', async () => {
    up.script(['unavailable_503', 'server_error_500'])
    up.setDefault('no_image')
    const provider = openai()
    const kinds = []
    for (let attempt = 0; attempt < 3; attempt++) {
      kinds.push((await failureOf(provider.generate(request('gpt-image-1')))).kind)
    }
    expect(kinds).toEqual(['unavailable', 'ambiguous', 'bad_response'])
    expect(up.calls.map((call) => call.fault)).toEqual([
      'unavailable_503',
      'server_error_500',
      'no_image',
    ])
  })
})

describe('OpenAI adapter against the fake over real HTTP', () => {
  it('gets the image bytes intact and the fake records what was sent', async () => {
    const result = await openai().generate(request('gpt-image-1', { n: 2, outputFormat: 'png' }))
    expect(result.images).toHaveLength(2)
    expect(isUpstreamImage(result.images[0]?.bytes)).toBe(true)
    // As GPT Image answers: what it made, and its usage with the input's parts.
    expect(result.usage).toEqual({
      inputTokens: 12,
      inputTextTokens: 12,
      inputImageTokens: 0,
      outputTokens: 2112,
      totalTokens: 2124,
    })
    expect(result.reported).toEqual({
      size: '720x720',
      quality: 'medium',
      background: 'opaque',
      outputFormat: 'png',
    })
    expect(up.calls).toHaveLength(1)
    expect(up.calls[0]).toMatchObject({
      shape: 'openai',
      model: 'gpt-image-1',
      headers: { authorization: 'Bearer sk-fake', 'content-type': 'application/json' },
      body: { model: 'gpt-image-1', n: 2, size: '1024x1024', output_format: 'png' },
    })
    expect(up.calls[0]?.body).not.toHaveProperty('response_format')
  })

  it('asks DALL·E for base64, so no download is needed', async () => {
    const result = await openai().generate(request('dall-e-3'))
    expect(up.calls).toHaveLength(1)
    expect(up.calls[0]?.body).toMatchObject({ response_format: 'b64_json' })
    expect(isUpstreamImage(result.images[0]?.bytes)).toBe(true)
    expect(result.images[0]?.revisedPrompt).toBe('a lighthouse at dusk')
  })

  it('downloads a URL answer from the other path, without the API key', async () => {
    up.script(['url'])
    const result = await openai().generate(request('gpt-image-1'))
    expect(isUpstreamImage(result.images[0]?.bytes)).toBe(true)
    expect(result.images[0]?.declaredMediaType).toBe('image/png')
    expect(up.calls.map((call) => call.shape)).toEqual(['openai', 'file'])
    expect(up.calls[1]?.headers.authorization).toBeUndefined()
  })

  it('waits out a slow answer within its timeout', async () => {
    up.script([{ mode: 'ok', delayMs: 50 }])
    const result = await openai({ timeoutMs: 2_000 }).generate(request('gpt-image-1'))
    expect(result.images).toHaveLength(1)
  })

  it.each<[string, Fault, Partial<UpstreamFailure>]>([
    ...OPENAI_FAULTS,
    [
      'moderation_blocked',
      'safety_block',
      { kind: 'content_policy', stage: 'input', upstreamCode: 'moderation_blocked' },
    ],
  ])('%s', async (_name, fault, expected) => {
    up.script([fault])
    const failure = await failureOf(openai().generate(request('gpt-image-1')))
    expect(failure).toMatchObject({ provider: 'openai', ...expected })
    expect(generations()).toHaveLength(1)
  })

  it('429 Retry-After as an HTTP-date', async () => {
    up.script([{ mode: 'rate_limit_date', retryAfterSeconds: 3 }])
    const failure = await failureOf(openai().generate(request('gpt-image-1')))
    expect(failure.kind).toBe('rate_limited')
    expect(failure.retryAfterMs).toBeGreaterThan(2_000)
    expect(failure.retryAfterMs).toBeLessThanOrEqual(4_000)
  })

  it('a slow answer past timeoutMs is a timeout', async () => {
    up.script([{ mode: 'ok', delayMs: 1_000 }])
    const failure = await failureOf(openai({ timeoutMs: 100 }).generate(request('gpt-image-1')))
    expect(failure.kind).toBe('timeout')
  })

  it('a slow answer past the request deadline is a timeout', async () => {
    up.script([{ mode: 'ok', delayMs: 1_000 }])
    const signal = AbortSignal.timeout(100)
    const failure = await failureOf(openai().generate(request('gpt-image-1', { signal })))
    expect(failure.kind).toBe('timeout')
  })
})

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array | undefined): { width: number; height: number } | undefined {
  if (bytes === undefined || bytes.length < 24 || bytes[12] !== 0x49 || bytes[15] !== 0x52) {
    return undefined
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { width: view.getUint32(16), height: view.getUint32(20) }
}

describe('OpenAI edits against the fake over real HTTP', () => {
  const photo = noisePng(16, 16, 7)
  const mask = noisePng(16, 16, 8)
  let logo: Uint8Array
  beforeAll(async () => {
    logo = new Uint8Array(await noiseJpeg('logo', 16))
  })
  const edit = (overrides: Partial<GenerateImagesRequest> = {}) =>
    request('gpt-image-1', {
      prompt: 'put a red hat on the cat',
      inputs: [{ bytes: photo, mediaType: 'image/png', role: 'edit_target' }],
      ...overrides,
    })
  const edits = () => up.calls.filter((call) => call.shape === 'openai_edit')

  it('receives every field and file through the pooled client, and answers the size asked for', async () => {
    const pooled = createPooledFetch({ connections: 2 })
    try {
      const inputs: InputImage[] = [
        { bytes: photo, mediaType: 'image/png', role: 'edit_target' },
        { bytes: logo, mediaType: 'image/jpeg', role: 'logo', displayName: 'Acme' },
      ]
      const result = await openai({ fetch: pooled.fetch }).generate(
        edit({ inputs, mask, n: 2, size: { width: 1536, height: 1024 }, inputFidelity: 'high' }),
      )
      expect(result.images.map((image) => pngSize(image.bytes))).toEqual([
        { width: 1536, height: 1024 },
        { width: 1536, height: 1024 },
      ])
      // The two images are input tokens; the mask is not an image of the prompt.
      expect(result.usage).toMatchObject({
        inputTokens: 12 + 2 * 194,
        inputImageTokens: 2 * 194,
        inputTextTokens: 12,
      })
      expect(result.reported).toMatchObject({ size: '1536x1024' })
      expect(up.calls).toHaveLength(1)
      const [call] = up.calls
      expect(call).toMatchObject({
        shape: 'openai_edit',
        method: 'POST',
        path: '/v1/images/edits',
        model: 'gpt-image-1',
        headers: { authorization: 'Bearer sk-fake' },
        body: {
          model: 'gpt-image-1',
          // multipart/form-data sends every line break as CRLF.
          prompt: result.sentText?.replaceAll('\n', '\r\n'),
          n: '2',
          size: '1536x1024',
          input_fidelity: 'high',
        },
        fault: 'ok',
      })
      expect(call?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
      expect(call?.body).not.toHaveProperty('response_format')
      expect(result.sentText).toContain("Image 2 is the logo 'Acme'")
      expect(call?.files).toEqual([
        {
          name: 'image[]',
          filename: 'image-1.png',
          contentType: 'image/png',
          size: photo.length,
          sha256: sha256(photo),
        },
        {
          name: 'image[]',
          filename: 'image-2.jpg',
          contentType: 'image/jpeg',
          size: logo.length,
          sha256: sha256(logo),
        },
        {
          name: 'mask',
          filename: 'mask.png',
          contentType: 'image/png',
          size: mask.length,
          sha256: sha256(mask),
        },
      ])
    } finally {
      await pooled.close()
    }
  })

  it('asks dall-e-2 for base64 and gets the default size for no size', async () => {
    const result = await openai().generate(edit({ upstreamModel: 'dall-e-2', size: undefined }))
    expect(edits()).toHaveLength(1)
    expect(edits()[0]?.body).toEqual({
      model: 'dall-e-2',
      prompt: 'put a red hat on the cat',
      n: '1',
      response_format: 'b64_json',
    })
    expect(edits()[0]?.files?.map((file) => file.name)).toEqual(['image'])
    expect(pngSize(result.images[0]?.bytes)).toEqual({ width: 1024, height: 1024 })
    expect(result.images[0]?.revisedPrompt).toBe('put a red hat on the cat')
  })

  it('serves a URL answer at the size asked for', async () => {
    up.script(['url'])
    const result = await openai().generate(edit({ size: { width: 512, height: 768 } }))
    expect(up.calls.map((call) => call.shape)).toEqual(['openai_edit', 'file'])
    expect(up.calls[1]?.headers.authorization).toBeUndefined()
    expect(pngSize(result.images[0]?.bytes)).toEqual({ width: 512, height: 768 })
  })

  it.each<[string, Fault, Partial<UpstreamFailure>]>([
    ...OPENAI_FAULTS,
    ['moderation_blocked', 'safety_block', { kind: 'content_policy', stage: 'input' }],
  ])('%s', async (_name, fault, expected) => {
    up.script([fault])
    const failure = await failureOf(openai().generate(edit()))
    expect(failure).toMatchObject({ provider: 'openai', ...expected })
    expect(edits()).toHaveLength(1)
    expect(edits()[0]?.fault).toBe(typeof fault === 'string' ? fault : fault.mode)
  })

  it('refuses an edit without an image as OpenAI does, leaving the script for the next call', async () => {
    up.script(['unavailable_503'])
    const form = new FormData()
    form.append('model', 'gpt-image-1')
    form.append('prompt', 'a hat')
    const response = await fetch(`${up.url}/v1/images/edits`, { method: 'POST', body: form })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { message: "Missing required parameter: 'image'.", type: 'invalid_request_error' },
    })
    expect(edits()).toMatchObject([{ body: { prompt: 'a hat' }, files: [], fault: undefined }])
    expect((await failureOf(openai().generate(edit()))).kind).toBe('unavailable')
  })

  it('refuses a body that is not multipart', async () => {
    const response = await fetch(`${up.url}/v1/images/edits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt":"a hat"}',
    })
    expect(response.status).toBe(400)
    expect(edits()).toMatchObject([{ body: '{"prompt":"a hat"}', fault: undefined }])
  })
})

describe('Gemini adapter against the fake over real HTTP', () => {
  it('gets the image bytes intact and keeps the model turn with its signature', async () => {
    const result = await gemini().generate(request('gemini-3-pro-image-preview'))
    expect(result.images).toHaveLength(1)
    expect(isUpstreamImage(result.images[0]?.bytes)).toBe(true)
    expect(result.images[0]?.declaredMediaType).toBe('image/png')
    expect(result.text).toBe('Here is your image.')
    expect(result.modelTurn).toMatchObject({
      role: 'model',
      parts: [
        { thought: true },
        { text: 'Here is your image.' },
        { thoughtSignature: Buffer.from('fake-signature-0').toString('base64') },
      ],
    })
    expect(up.calls).toMatchObject([
      {
        shape: 'gemini',
        path: '/v1beta/models/gemini-3-pro-image-preview:generateContent',
        model: 'gemini-3-pro-image-preview',
        headers: { 'x-goog-api-key': 'fake-key' },
        body: { generationConfig: { imageConfig: { aspectRatio: '1:1', imageSize: '1K' } } },
      },
    ])
  })

  it('fans n=3 out into three calls', async () => {
    const result = await gemini().generate(request('gemini-2.5-flash-image', { n: 3 }))
    expect(result.images).toHaveLength(3)
    expect(up.calls).toHaveLength(3)
    expect(result.modelTurn).toHaveLength(3)
  })

  it.each<[string, Fault, Partial<UpstreamFailure>]>([
    [
      '429 Retry-After seconds',
      { mode: 'rate_limit_seconds', retryAfterSeconds: 4 },
      { kind: 'rate_limited', status: 429, retryAfterMs: 4000 },
    ],
    ['429 quota of zero', 'insufficient_quota', { kind: 'quota', status: 429 }],
    ['400 bad API key', 'unauthorized', { kind: 'auth', status: 400 }],
    ['500', 'server_error_500', { kind: 'ambiguous', status: 500 }],
    ['502', 'bad_gateway_502', { kind: 'unavailable', status: 502 }],
    ['503', 'unavailable_503', { kind: 'unavailable', status: 503, upstreamCode: 'UNAVAILABLE' }],
    ['reset after headers', 'reset_after_headers', { kind: 'ambiguous' }],
    ['malformed JSON', 'malformed_json', { kind: 'bad_response', status: 200 }],
    ['truncated base64', 'truncated_base64', { kind: 'bad_response', status: 200 }],
    [
      'IMAGE_SAFETY',
      'safety_block',
      { kind: 'content_policy', stage: 'output', finishReason: 'IMAGE_SAFETY' },
    ],
    [
      'blockReason',
      'prompt_blocked',
      { kind: 'content_policy', stage: 'input', upstreamCode: 'PROHIBITED_CONTENT' },
    ],
    ['200 without an image', 'no_image', { kind: 'bad_response', finishReason: 'STOP' }],
  ])('%s', async (_name, fault, expected) => {
    up.script([fault])
    const failure = await failureOf(gemini().generate(request('gemini-2.5-flash-image')))
    expect(failure).toMatchObject({ provider: 'gemini', ...expected })
    expect(up.calls).toHaveLength(1)
  })

  it('429 Retry-After as an HTTP-date', async () => {
    up.script([{ mode: 'rate_limit_date', retryAfterSeconds: 3 }])
    const failure = await failureOf(gemini().generate(request('gemini-2.5-flash-image')))
    expect(failure.kind).toBe('rate_limited')
    expect(failure.retryAfterMs).toBeGreaterThan(2_000)
    expect(failure.retryAfterMs).toBeLessThanOrEqual(4_000)
  })

  it('a slow answer past timeoutMs is a timeout', async () => {
    up.script([{ mode: 'ok', delayMs: 1_000 }])
    const failure = await failureOf(
      gemini({ timeoutMs: 100 }).generate(request('gemini-2.5-flash-image')),
    )
    expect(failure.kind).toBe('timeout')
  })
})

describe('an upstream that is not there', () => {
  it('is not_sent for both adapters', async () => {
    const gone = await startFakeUpstream({ image: up.image })
    const baseUrl = gone.url
    await gone.close()
    const providers = [
      createOpenAIProvider({ baseUrl: `${baseUrl}/v1`, apiKey: 'sk-fake', fetch }),
      createGeminiProvider({ baseUrl: `${baseUrl}/v1beta`, apiKey: 'fake-key', fetch }),
    ]
    for (const provider of providers) {
      const failure = await failureOf(provider.generate(request('gpt-image-1')))
      expect(failure).toMatchObject({ kind: 'not_sent', upstreamCode: 'ECONNREFUSED' })
    }
  })
})
