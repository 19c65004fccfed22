import { describe, expect, it } from 'vitest'
import { noisePng } from '../testing/images.ts'
import { createOpenAIProvider, openAIModelFamily } from './openai.ts'
import {
  bodyResetResponse,
  failureOf,
  fetchFailed,
  fixture,
  fixtureText,
  hangingResponder,
  jsonResponse,
  type Responder,
  recordingFetch,
} from './testing/recording-fetch.ts'
import type { GenerateImagesRequest, UpstreamFailure } from './types.ts'

const BASE_URL = 'https://api.openai.example/v1'
const API_KEY = 'sk-test-123'
const NOW = new Date('2026-11-21T12:00:00Z')

const gptImageAnswer = fixture('openai-gpt-image-b64.json') as {
  data: { b64_json: string }[]
}
const pngBase64 = gptImageAnswer.data[0]?.b64_json ?? ''
const pngBytes = new Uint8Array(Buffer.from(pngBase64, 'base64'))

function request(overrides: Partial<GenerateImagesRequest> = {}): GenerateImagesRequest {
  return {
    upstreamModel: 'gpt-image-1',
    prompt: 'a lighthouse at dusk, watercolor',
    n: 1,
    size: { width: 1024, height: 1024 },
    signal: new AbortController().signal,
    ...overrides,
  }
}

function setup(respond: Responder, options: { timeoutMs?: number } = {}) {
  const recorder = recordingFetch(respond)
  const provider = createOpenAIProvider({
    baseUrl: `${BASE_URL}/`,
    apiKey: API_KEY,
    fetch: recorder.fetch,
    clock: { now: () => NOW },
    ...options,
  })
  return { provider, calls: recorder.calls }
}

describe('openAIModelFamily', () => {
  it.each([
    ['gpt-image-1', 'gpt-image'],
    ['gpt-image-1-mini', 'gpt-image'],
    ['gpt-image-2', 'gpt-image'],
    ['chatgpt-image-latest', 'gpt-image'],
    ['dall-e-3', 'dall-e-3'],
    ['dall-e-2', 'dall-e-2'],
    ['flux-schnell', 'other'],
  ])('%s is %s', (model, family) => {
    expect(openAIModelFamily(model)).toBe(family)
  })
})

describe('what the OpenAI adapter sends', () => {
  const everything = {
    quality: 'high',
    outputFormat: 'webp',
    outputCompression: 80,
    background: 'opaque',
    moderation: 'low',
    style: 'vivid',
    user: 'user-42',
    seed: 7,
  } as const

  it('sends GPT Image models their own parameters and never response_format', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({ size: { width: 1024, height: 1536 }, n: 2, ...everything }),
    )

    expect(calls).toHaveLength(1)
    expect(calls[0]).toEqual({
      url: `${BASE_URL}/images/generations`,
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: {
        model: 'gpt-image-1',
        prompt: 'a lighthouse at dusk, watercolor',
        n: 2,
        size: '1024x1536',
        quality: 'high',
        output_format: 'webp',
        output_compression: 80,
        background: 'opaque',
        moderation: 'low',
        user: 'user-42',
      },
    })
    expect(result.warnings).toEqual([
      'style is accepted only by dall-e-3; not sent to gpt-image-1',
      'seed is not an OpenAI Images parameter; seed 7 was not sent',
    ])
  })

  it('treats chatgpt-image models as GPT Image', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    await provider.generate(request({ upstreamModel: 'chatgpt-image-latest', background: 'auto' }))
    expect(calls[0]?.body).toEqual({
      model: 'chatgpt-image-latest',
      prompt: 'a lighthouse at dusk, watercolor',
      n: 1,
      size: '1024x1024',
      background: 'auto',
    })
  })

  it('asks dall-e-3 for base64, forwards style and reports the GPT Image parameters', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({ upstreamModel: 'dall-e-3', size: { width: 1792, height: 1024 }, ...everything }),
    )
    expect(calls[0]?.body).toEqual({
      model: 'dall-e-3',
      prompt: 'a lighthouse at dusk, watercolor',
      n: 1,
      size: '1792x1024',
      quality: 'high',
      style: 'vivid',
      user: 'user-42',
      response_format: 'b64_json',
    })
    expect(result.warnings).toEqual([
      'output_format is accepted only by GPT Image models; not sent to dall-e-3',
      'output_compression is accepted only by GPT Image models; not sent to dall-e-3',
      'background is accepted only by GPT Image models; not sent to dall-e-3',
      'moderation is accepted only by GPT Image models; not sent to dall-e-3',
      'seed is not an OpenAI Images parameter; seed 7 was not sent',
    ])
  })

  it('asks dall-e-2 for base64 and reports style', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({ upstreamModel: 'dall-e-2', size: { width: 512, height: 512 }, style: 'natural' }),
    )
    expect(calls[0]?.body).toEqual({
      model: 'dall-e-2',
      prompt: 'a lighthouse at dusk, watercolor',
      n: 1,
      size: '512x512',
      response_format: 'b64_json',
    })
    expect(result.warnings).toEqual(['style is accepted only by dall-e-3; not sent to dall-e-2'])
  })

  it('sends other models only the common parameters and leaves the answer format to them', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({ upstreamModel: 'flux-schnell', size: undefined, outputFormat: 'png' }),
    )
    expect(calls[0]?.body).toEqual({
      model: 'flux-schnell',
      prompt: 'a lighthouse at dusk, watercolor',
      n: 1,
    })
    expect(result.warnings).toEqual([
      'output_format is accepted only by GPT Image models; not sent to flux-schnell',
    ])
  })
})

describe('edit-only fields on a generation', () => {
  it('goes to /images/generations when inputs is empty, and names what it did not send', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, gptImageAnswer))
    const result = await provider.generate(
      request({ inputs: [], inputFidelity: 'high', mask: new Uint8Array([1, 2, 3]) }),
    )
    expect(calls[0]?.url).toBe(`${BASE_URL}/images/generations`)
    expect(calls[0]?.body).toEqual({
      model: 'gpt-image-1',
      prompt: 'a lighthouse at dusk, watercolor',
      n: 1,
      size: '1024x1024',
    })
    expect(result.warnings).toEqual([
      'input_fidelity applies only to edits (requests with input images); not sent',
      'a mask applies only to edits (requests with input images); not sent',
    ])
    expect(result.sentText).toBeUndefined()
  })
})

describe('what the OpenAI adapter returns', () => {
  it('decodes a GPT Image answer with its usage, settings and declared format', async () => {
    const { provider } = setup(() => jsonResponse(200, fixtureText('openai-gpt-image-b64.json')))
    const result = await provider.generate(request())
    expect(result).toEqual({
      images: [{ bytes: pngBytes, base64: pngBase64, declaredMediaType: 'image/png' }],
      warnings: [],
      usage: {
        inputTokens: 14,
        inputTextTokens: 14,
        inputImageTokens: 0,
        outputTokens: 1056,
        totalTokens: 1070,
      },
      reported: { size: '1024x1024', quality: 'medium', background: 'opaque', outputFormat: 'png' },
      processingMs: expect.any(Number),
    })
  })

  it('keeps the images when the settings or usage are not what OpenAI sends, dropping only those', async () => {
    const answer = {
      created: 1,
      data: [{ b64_json: pngBase64 }],
      size: 'auto',
      quality: 'hd',
      background: 42,
      output_format: 'tiff',
      usage: {
        input_tokens: '14',
        input_tokens_details: { image_tokens: -1, text_tokens: 14 },
        output_tokens: 1056.5,
        output_tokens_details: 'none',
        total_tokens: 1070,
      },
    }
    const { provider } = setup(() => jsonResponse(200, answer))
    const result = await provider.generate(request())
    expect(result.images).toEqual([{ bytes: pngBytes, base64: pngBase64 }])
    expect(result.usage).toEqual({ inputTextTokens: 14, totalTokens: 1070 })
    expect(result.reported).toBeUndefined()

    const { provider: nothing } = setup(() =>
      jsonResponse(200, { created: 1, data: [{ b64_json: pngBase64 }], usage: null, size: null }),
    )
    const plain = await nothing.generate(request())
    expect(plain.usage).toBeUndefined()
    expect(plain.reported).toBeUndefined()
  })

  it('downloads a dall-e-3 URL answer without sending the API key to that host', async () => {
    const answer = fixture('openai-dalle3-url.json') as {
      data: { url: string; revised_prompt: string }[]
    }
    const imageUrl = answer.data[0]?.url ?? ''
    const { provider, calls } = setup((call) =>
      call.url === imageUrl
        ? new Response(pngBytes, { headers: { 'content-type': 'image/png' } })
        : jsonResponse(200, answer),
    )
    const result = await provider.generate(request({ upstreamModel: 'dall-e-3' }))

    expect(calls.map((call) => [call.method, call.url])).toEqual([
      ['POST', `${BASE_URL}/images/generations`],
      ['GET', imageUrl],
    ])
    expect(calls[1]?.headers).toEqual({})
    expect(result.images).toEqual([
      {
        bytes: pngBytes,
        declaredMediaType: 'image/png',
        revisedPrompt: answer.data[0]?.revised_prompt,
      },
    ])
    expect(result.usage).toBeUndefined()
  })

  it('keeps long base64 as the bytes it came in, decoded once and passed on as sent', async () => {
    const png = await noisePng('long base64', 96)
    const text = png.toString('base64')
    expect(text.length).toBeGreaterThan(16 * 1024)
    const { provider } = setup(() =>
      jsonResponse(200, { created: 1, data: [{ b64_json: text }], output_format: 'png' }),
    )
    const result = await provider.generate(request())
    const [image] = result.images
    expect(image?.bytes).toEqual(new Uint8Array(png))
    expect(image?.base64).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(image?.base64 as Uint8Array).toString('latin1')).toBe(text)
    expect(image?.declaredMediaType).toBe('image/png')
  })

  it('refuses long base64 cut short or spoiled, as it refuses short base64', async () => {
    const png = await noisePng('spoiled base64', 96)
    const text = png.toString('base64')
    for (const spoiled of [
      text.slice(0, Math.floor(text.length / 8) * 4),
      `${text.slice(0, 20_000)}$${text.slice(20_001)}`,
    ]) {
      const { provider } = setup(() => jsonResponse(200, { data: [{ b64_json: spoiled }] }))
      const failure = await failureOf(provider.generate(request()))
      expect(failure.kind).toBe('bad_response')
    }
  })

  it('accepts a data: URL answer from OpenAI-compatible proxies', async () => {
    const { provider, calls } = setup(() =>
      jsonResponse(200, { data: [{ url: `data:image/png;base64,${pngBase64}` }] }),
    )
    const result = await provider.generate(request({ upstreamModel: 'flux-schnell' }))
    expect(calls).toHaveLength(1)
    expect(result.images).toEqual([
      { bytes: pngBytes, base64: pngBase64, declaredMediaType: 'image/png' },
    ])
  })
})

type ErrorCase = {
  name: string
  status: number
  body: unknown
  headers?: Record<string, string>
  expected: Partial<UpstreamFailure>
}

const errorCases: ErrorCase[] = [
  {
    name: 'moderation_blocked',
    status: 400,
    body: fixture('openai-error-moderation-blocked.json'),
    expected: {
      kind: 'content_policy',
      stage: 'input',
      upstreamCode: 'moderation_blocked',
      reason: expect.stringContaining('rejected by the safety system') as unknown as string,
    },
  },
  {
    name: 'moderation_blocked at the output stage',
    status: 400,
    body: {
      error: {
        code: 'moderation_blocked',
        message: 'Generated image was blocked.',
        moderation_details: { moderation_stage: 'output' },
      },
    },
    expected: { kind: 'content_policy', stage: 'output', reason: 'Generated image was blocked.' },
  },
  {
    name: 'content_policy_violation (dall-e)',
    status: 400,
    body: fixture('openai-error-content-policy-violation.json'),
    expected: { kind: 'content_policy', stage: 'input', upstreamCode: 'content_policy_violation' },
  },
  {
    name: '429 insufficient_quota',
    status: 429,
    body: fixture('openai-error-insufficient-quota.json'),
    expected: { kind: 'quota', status: 429, upstreamCode: 'insufficient_quota' },
  },
  {
    name: '400 billing_hard_limit_reached',
    status: 400,
    body: fixture('openai-error-billing-hard-limit.json'),
    expected: { kind: 'quota', status: 400, upstreamCode: 'billing_hard_limit_reached' },
  },
  {
    name: '429 with retry-after-ms',
    status: 429,
    body: fixture('openai-error-rate-limit.json'),
    headers: { 'retry-after-ms': '1500', 'retry-after': '2' },
    expected: { kind: 'rate_limited', retryAfterMs: 1500, upstreamCode: 'rate_limit_exceeded' },
  },
  {
    name: '429 with Retry-After seconds',
    status: 429,
    body: fixture('openai-error-rate-limit.json'),
    headers: { 'retry-after': '2' },
    expected: { kind: 'rate_limited', retryAfterMs: 2000 },
  },
  {
    name: '429 with Retry-After as an HTTP-date',
    status: 429,
    body: fixture('openai-error-rate-limit.json'),
    headers: { 'retry-after': 'Sat, 21 Nov 2026 12:00:30 GMT' },
    expected: { kind: 'rate_limited', retryAfterMs: 30_000 },
  },
  {
    name: '429 without advice',
    status: 429,
    body: fixture('openai-error-rate-limit.json'),
    expected: { kind: 'rate_limited', retryAfterMs: undefined },
  },
  {
    name: '502',
    status: 502,
    body: '<html>Bad Gateway</html>',
    expected: { kind: 'unavailable', status: 502 },
  },
  {
    name: '503 with Retry-After',
    status: 503,
    body: '',
    headers: { 'retry-after': '5' },
    expected: { kind: 'unavailable', retryAfterMs: 5000 },
  },
  { name: '504', status: 504, body: '', expected: { kind: 'unavailable' } },
  {
    name: '500',
    status: 500,
    body: fixture('openai-error-server.json'),
    expected: { kind: 'ambiguous', status: 500 },
  },
  {
    name: '401',
    status: 401,
    body: fixture('openai-error-invalid-api-key.json'),
    expected: { kind: 'auth', upstreamCode: 'invalid_api_key' },
  },
  { name: '403', status: 403, body: '', expected: { kind: 'auth' } },
  {
    name: '400 unknown_parameter',
    status: 400,
    body: fixture('openai-error-unknown-parameter.json'),
    expected: { kind: 'rejected', upstreamCode: 'unknown_parameter' },
  },
  { name: '404', status: 404, body: '', expected: { kind: 'rejected' } },
  { name: '409', status: 409, body: '', expected: { kind: 'unavailable' } },
  { name: '501', status: 501, body: '', expected: { kind: 'rejected' } },
  {
    name: '522 from Cloudflare',
    status: 522,
    body: '<html>Connection timed out</html>',
    expected: { kind: 'unavailable' },
  },
  { name: '524 from Cloudflare', status: 524, body: '', expected: { kind: 'ambiguous' } },
  { name: '413', status: 413, body: '', expected: { kind: 'rejected' } },
  { name: '422', status: 422, body: '', expected: { kind: 'rejected' } },
]

describe('how the OpenAI adapter classifies error answers', () => {
  it.each(errorCases)('$name', async ({ status, body, headers, expected }) => {
    const { provider, calls } = setup(() => jsonResponse(status, body, headers))
    const failure = await failureOf(provider.generate(request()))
    expect(failure).toMatchObject({ provider: 'openai', status, ...expected })
    expect(calls).toHaveLength(1)
  })

  it('puts the upstream message into the failure message', async () => {
    const { provider } = setup(() =>
      jsonResponse(400, fixture('openai-error-unknown-parameter.json')),
    )
    const failure = await failureOf(provider.generate(request()))
    expect(failure.message).toBe(
      "OpenAI-compatible upstream answered 400: Unknown parameter: 'response_format'.",
    )
  })
})

describe('how the OpenAI adapter classifies transport failures', () => {
  it.each([
    ['ECONNREFUSED', 'not_sent'],
    ['ENOTFOUND', 'not_sent'],
    ['UND_ERR_CONNECT_TIMEOUT', 'not_sent'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'not_sent'],
    ['ECONNRESET', 'ambiguous'],
    ['UND_ERR_SOCKET', 'ambiguous'],
    ['UND_ERR_HEADERS_TIMEOUT', 'ambiguous'],
  ])('fetch throwing %s is %s', async (code, kind) => {
    const { provider } = setup(() => {
      throw fetchFailed(code)
    })
    const failure = await failureOf(provider.generate(request()))
    expect(failure).toMatchObject({ kind, upstreamCode: code })
  })

  it('finds the code inside an AggregateError (happy eyeballs)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:443'), {
      code: 'ECONNREFUSED',
    })
    const { provider } = setup(() => {
      throw new TypeError('fetch failed', { cause: new AggregateError([refused, refused]) })
    })
    expect(await failureOf(provider.generate(request()))).toMatchObject({ kind: 'not_sent' })
  })

  it('treats an unexplained fetch error as ambiguous', async () => {
    const { provider } = setup(() => {
      throw new Error('something odd')
    })
    expect(await failureOf(provider.generate(request()))).toMatchObject({ kind: 'ambiguous' })
  })

  it('treats a body that breaks after a 200 as ambiguous', async () => {
    const { provider } = setup(() => bodyResetResponse())
    expect(await failureOf(provider.generate(request()))).toMatchObject({ kind: 'ambiguous' })
  })

  it('classifies an error status by status even when its body breaks', async () => {
    const { provider } = setup(() => {
      const response = bodyResetResponse()
      return new Response(response.body, { status: 503 })
    })
    expect(await failureOf(provider.generate(request()))).toMatchObject({
      kind: 'unavailable',
      status: 503,
    })
  })

  it('is a timeout when the request deadline fires', async () => {
    const controller = new AbortController()
    const { provider } = setup(hangingResponder())
    const pending = provider.generate(request({ signal: controller.signal }))
    setTimeout(() => controller.abort(), 5)
    expect(await failureOf(pending)).toMatchObject({ kind: 'timeout' })
  })

  it('is a timeout when its own timeoutMs fires', async () => {
    const { provider } = setup(hangingResponder(), { timeoutMs: 10 })
    expect(await failureOf(provider.generate(request()))).toMatchObject({ kind: 'timeout' })
  })
})

describe('how the OpenAI adapter rejects unusable 200s', () => {
  const truncated = pngBase64.slice(0, Math.floor(pngBase64.length / 8) * 4)
  it.each([
    ['malformed JSON', '{"created":1713833628,"data":[{"b64_json":"iVBO'],
    ['an HTML page', '<html><body>upstream connect error</body></html>'],
    ['empty data', { created: 1713833628, data: [] }],
    ['no data member', { created: 1713833628 }],
    ['an item with neither b64_json nor url', { data: [{ revised_prompt: 'x' }] }],
    ['base64 cut at a 4-character boundary', { data: [{ b64_json: truncated }] }],
    ['base64 cut mid-quantum', { data: [{ b64_json: pngBase64.slice(0, -5) }] }],
    ['characters outside base64', { data: [{ b64_json: `${pngBase64.slice(0, 40)}*!*` }] }],
    ['base64 of something that is not an image', { data: [{ b64_json: 'aGVsbG8gd29ybGQ=' }] }],
    ['an unsupported URL scheme', { data: [{ url: 'ftp://files.example/image.png' }] }],
  ])('%s is bad_response', async (_name, body) => {
    const { provider } = setup(() => jsonResponse(200, body))
    expect(await failureOf(provider.generate(request()))).toMatchObject({ kind: 'bad_response' })
  })

  it('reads an error envelope that a proxy wrapped in a 200', async () => {
    const { provider } = setup(() =>
      jsonResponse(200, fixture('openai-error-moderation-blocked.json')),
    )
    expect(await failureOf(provider.generate(request()))).toMatchObject({
      kind: 'content_policy',
      status: 200,
    })
  })

  it('calls any other error envelope in a 200 a bad response', async () => {
    const { provider } = setup(() => jsonResponse(200, fixture('openai-error-server.json')))
    expect(await failureOf(provider.generate(request()))).toMatchObject({
      kind: 'bad_response',
      status: 200,
    })
  })

  it.each([
    ['answers 404', () => new Response('gone', { status: 404 })],
    [
      'refuses the connection',
      () => {
        throw fetchFailed('ECONNREFUSED')
      },
    ],
    ['serves a truncated file', () => new Response(pngBytes.slice(0, 40))],
  ])('an image URL that %s is bad_response, never not_sent', async (_name, download) => {
    const { provider } = setup((call) =>
      call.method === 'GET'
        ? download()
        : jsonResponse(200, { data: [{ url: 'https://files.example/img.png' }] }),
    )
    expect(
      await failureOf(provider.generate(request({ upstreamModel: 'dall-e-3' }))),
    ).toMatchObject({ kind: 'bad_response' })
  })
})
