import { describe, expect, it } from 'vitest'
import { createGeminiProvider, DEFAULT_GEMINI_SAFETY_SETTINGS } from './gemini.ts'
import {
  failureOf,
  fetchFailed,
  fixture,
  hangingResponder,
  jsonResponse,
  type Responder,
  recordingFetch,
} from './testing/recording-fetch.ts'
import type { GenerateImagesRequest } from './types.ts'

const BASE_URL = 'https://generativelanguage.example/v1beta'
const API_KEY = 'AIza-test-key'
const MODEL = 'gemini-3-pro-image-preview'

type Part = {
  text?: string
  thought?: boolean
  inlineData?: { mimeType: string; data: string }
  thoughtSignature?: string
}
type Answer = { candidates: { content: { role: string; parts: Part[] } }[] }

const success = fixture('gemini-image-success.json') as Answer
const modelContent = success.candidates[0]?.content
const finalImagePart = modelContent?.parts[3]
const finalPng = new Uint8Array(Buffer.from(finalImagePart?.inlineData?.data ?? '', 'base64'))

function request(overrides: Partial<GenerateImagesRequest> = {}): GenerateImagesRequest {
  return {
    upstreamModel: MODEL,
    prompt: 'a lighthouse at dusk, watercolor',
    n: 1,
    size: { width: 1024, height: 1024 },
    signal: new AbortController().signal,
    ...overrides,
  }
}

function setup(
  respond: Responder,
  options: { maxParallelCalls?: number; timeoutMs?: number } = {},
) {
  const recorder = recordingFetch(respond)
  const provider = createGeminiProvider({
    baseUrl: BASE_URL,
    apiKey: API_KEY,
    fetch: recorder.fetch,
    clock: { now: () => new Date('2026-11-21T12:00:00Z') },
    ...options,
  })
  return { provider, calls: recorder.calls }
}

describe('what the Gemini adapter sends', () => {
  it('sends generateContent with the key header, the default safety settings and imageConfig', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, success))
    const result = await provider.generate(request())

    expect(calls).toEqual([
      {
        url: `${BASE_URL}/models/${MODEL}:generateContent`,
        method: 'POST',
        headers: { 'x-goog-api-key': API_KEY, 'content-type': 'application/json' },
        body: {
          contents: [
            {
              role: 'user',
              parts: [
                { text: 'a lighthouse at dusk, watercolor\n\nGenerate as 1024x1024 pixels.' },
              ],
            },
          ],
          generationConfig: {
            responseModalities: ['TEXT', 'IMAGE'],
            candidateCount: 1,
            imageConfig: { aspectRatio: '1:1', imageSize: '1K' },
          },
          safetySettings: [
            { category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_MEDIUM_AND_ABOVE' },
            { category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 'BLOCK_MEDIUM_AND_ABOVE' },
            { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', threshold: 'BLOCK_MEDIUM_AND_ABOVE' },
            { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_MEDIUM_AND_ABOVE' },
          ],
        },
      },
    ])
    expect(result.warnings).toEqual([])
    expect(result.sentText).toBe(
      'a lighthouse at dusk, watercolor\n\nGenerate as 1024x1024 pixels.',
    )
  })

  it('frames a first turn with the strict content rules and sends input images before the text', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, success))
    const logo = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])
    const face = new Uint8Array([0xff, 0xd8, 0xff, 4, 5, 6])
    const result = await provider.generate(
      request({
        strictContent: true,
        inputs: [
          { bytes: logo, mediaType: 'image/png', role: 'logo', displayName: 'Acme' },
          { bytes: face, mediaType: 'image/jpeg', role: 'face' },
        ],
        mask: new Uint8Array([1]),
      }),
    )
    const body = calls[0]?.body as { contents: { role: string; parts: Part[] }[] }
    expect(body.contents).toHaveLength(1)
    const [first, second, text] = body.contents[0]?.parts ?? []
    expect(first).toEqual({
      inlineData: { mimeType: 'image/png', data: Buffer.from(logo).toString('base64') },
    })
    expect(second).toEqual({
      inlineData: { mimeType: 'image/jpeg', data: Buffer.from(face).toString('base64') },
    })
    expect(text?.text).toMatch(/^STRICT RULES:\n/)
    expect(text?.text).toContain("Image 1 is the logo 'Acme'")
    expect(text?.text).toContain('Image 2 is a face')
    expect(text?.text).toMatch(/Generate as 1024x1024 pixels\.$/)
    expect(result.sentText).toBe(text?.text)
    expect(result.warnings).toEqual([
      `mask is not a Gemini parameter; ${MODEL} edits the whole image as the prompt says`,
    ])
  })

  it('replays a refinement: the earlier user turn, the model turn exactly as received, then the instruction', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, success))
    const storedTurn = JSON.parse(JSON.stringify(modelContent))
    const result = await provider.generate(
      request({
        prompt: 'make the sky stormy',
        strictContent: true,
        maxTurns: 3,
        chain: [
          {
            generationId: 'gen_1',
            prompt: 'a lighthouse',
            sentText: 'a lighthouse, as sent',
            inputs: [],
            modelTurn: storedTurn,
          },
        ],
      }),
    )
    const body = calls[0]?.body as { contents: { role: string; parts: Part[] }[] }
    expect(body.contents.map((content) => content.role)).toEqual(['user', 'model', 'user'])
    expect(body.contents[0]).toEqual({ role: 'user', parts: [{ text: 'a lighthouse, as sent' }] })
    expect(JSON.stringify(body.contents[1])).toBe(JSON.stringify(modelContent))
    const instruction = body.contents[2]?.parts[0]?.text ?? ''
    expect(instruction).toMatch(/^Apply this refinement while maintaining:/)
    expect(instruction).toContain('make the sky stormy')
    expect(instruction).not.toContain('STRICT RULES')
    expect(result.sentText).toBe(instruction)
  })

  it('sends the catalog safety settings, grounding and the seed; reports what Gemini lacks', async () => {
    const safetySettings = [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }]
    const { provider, calls } = setup(() => jsonResponse(200, success))
    const result = await provider.generate(
      request({
        size: undefined,
        safetySettings,
        grounding: true,
        seed: 42,
        quality: 'high',
        outputFormat: 'jpeg',
        style: 'vivid',
        user: 'user-42',
      }),
    )
    expect(calls[0]?.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'a lighthouse at dusk, watercolor' }] }],
      generationConfig: { responseModalities: ['TEXT', 'IMAGE'], candidateCount: 1, seed: 42 },
      safetySettings,
      tools: [{ googleSearch: {} }],
    })
    expect(result.warnings).toEqual([
      `quality is not a Gemini parameter; not sent to ${MODEL}`,
      `output_format is not a Gemini parameter; not sent to ${MODEL}`,
      `style is not a Gemini parameter; not sent to ${MODEL}`,
      `user is not a Gemini parameter; not sent to ${MODEL}`,
    ])
  })

  it('maps pixel sizes to the nearest ratio and tier and says so', async () => {
    const { provider, calls } = setup(() => jsonResponse(200, success))
    const result = await provider.generate(request({ size: { width: 1000, height: 700 } }))
    expect(calls[0]?.body).toMatchObject({
      generationConfig: { imageConfig: { aspectRatio: '3:2', imageSize: '1K' } },
    })
    expect(result.warnings).toEqual([
      'size 1000x700: aspect ratio sent as 3:2, the nearest Gemini supports',
      'size 1000x700: Gemini renders by size tier, not pixels; sent imageSize 1K (about 1024 px on the longer side)',
    ])
  })

  it('fans n>1 out into single-candidate calls, bounded, and keeps every model turn', async () => {
    let inFlight = 0
    let peak = 0
    const { provider, calls } = setup(
      async () => {
        inFlight++
        peak = Math.max(peak, inFlight)
        await new Promise((resolve) => setTimeout(resolve, 5))
        inFlight--
        return jsonResponse(200, success)
      },
      { maxParallelCalls: 2 },
    )
    const result = await provider.generate(request({ n: 5 }))

    expect(calls).toHaveLength(5)
    expect(peak).toBe(2)
    for (const call of calls) {
      expect(call.body).toMatchObject({ generationConfig: { candidateCount: 1 } })
    }
    expect(result.images).toHaveLength(5)
    expect(result.modelTurn).toEqual(Array.from({ length: 5 }, () => modelContent))
    expect(result.usage).toEqual({
      inputTokens: 65,
      outputTokens: 5 * (1136 + 242),
      totalTokens: 5 * 1391,
    })
  })
})

describe('what the Gemini adapter returns', () => {
  it('drops thought parts, decodes the image and keeps the model turn exactly as received', async () => {
    const { provider } = setup(() => jsonResponse(200, success))
    const result = await provider.generate(request())

    expect(result.images).toEqual([
      {
        bytes: finalPng,
        base64: finalImagePart?.inlineData?.data,
        declaredMediaType: 'image/png',
      },
    ])
    expect(result.text).toBe(
      "Here's a watercolor lighthouse at dusk, with the lamp glowing over the rocks.",
    )
    expect(result.modelTurn).toEqual(modelContent)
    expect((result.modelTurn as Answer['candidates'][number]['content']).parts[3]).toEqual(
      finalImagePart,
    )
    expect(finalImagePart?.thoughtSignature).toMatch(/^CpwF/)
    expect(result.usage).toEqual({ inputTokens: 13, outputTokens: 1136 + 242, totalTokens: 1391 })
  })

  it('returns the images that succeeded when some of the fanned-out calls fail', async () => {
    const { provider } = setup((_call, index) =>
      index === 1
        ? jsonResponse(200, fixture('gemini-image-safety.json'))
        : jsonResponse(200, success),
    )
    const result = await provider.generate(request({ n: 3 }))
    expect(result.images).toHaveLength(2)
    expect(result.modelTurn).toHaveLength(2)
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^1 of 3 Gemini calls failed \(content_policy: .*IMAGE_SAFETY.*returning 2 images$/,
      ),
    ])
  })

  it('throws the first failure when every fanned-out call fails', async () => {
    const { provider, calls } = setup(() =>
      jsonResponse(200, fixture('gemini-prompt-blocked.json')),
    )
    const failure = await failureOf(provider.generate(request({ n: 2 })))
    expect(failure).toMatchObject({ kind: 'content_policy', stage: 'input' })
    expect(calls).toHaveLength(2)
  })
})

describe('how the Gemini adapter reads refusals in a 200', () => {
  const candidate = (finishReason: string) => ({
    candidates: [{ finishReason, index: 0 }],
  })
  it.each([
    [
      'IMAGE_SAFETY',
      fixture('gemini-image-safety.json'),
      {
        kind: 'content_policy',
        stage: 'output',
        finishReason: 'IMAGE_SAFETY',
        reason: expect.stringContaining('Unable to show the generated image'),
      },
    ],
    [
      'IMAGE_PROHIBITED_CONTENT',
      candidate('IMAGE_PROHIBITED_CONTENT'),
      { kind: 'content_policy', stage: 'output', finishReason: 'IMAGE_PROHIBITED_CONTENT' },
    ],
    [
      'SAFETY',
      candidate('SAFETY'),
      { kind: 'content_policy', stage: 'input', finishReason: 'SAFETY' },
    ],
    [
      'PROHIBITED_CONTENT',
      candidate('PROHIBITED_CONTENT'),
      { kind: 'content_policy', stage: 'input', finishReason: 'PROHIBITED_CONTENT' },
    ],
    [
      'promptFeedback.blockReason',
      fixture('gemini-prompt-blocked.json'),
      {
        kind: 'content_policy',
        stage: 'input',
        reason: 'PROHIBITED_CONTENT',
        upstreamCode: 'PROHIBITED_CONTENT',
        finishReason: undefined,
      },
    ],
    [
      'STOP with text only',
      fixture('gemini-text-only-stop.json'),
      {
        kind: 'bad_response',
        finishReason: 'STOP',
        reason: expect.stringContaining("I can't generate an image of a real, named person"),
        message: expect.stringContaining('without an image (finishReason STOP)'),
      },
    ],
    ['no candidates', { candidates: [] }, { kind: 'bad_response', finishReason: undefined }],
    [
      'RECITATION',
      candidate('IMAGE_RECITATION'),
      { kind: 'bad_response', finishReason: 'IMAGE_RECITATION' },
    ],
    ['not an object', [1, 2, 3], { kind: 'bad_response' }],
    [
      'a truncated image',
      {
        candidates: [
          {
            content: {
              parts: [
                {
                  inlineData: {
                    mimeType: 'image/png',
                    data: finalImagePart?.inlineData?.data.slice(0, 40),
                  },
                },
              ],
            },
            finishReason: 'STOP',
          },
        ],
      },
      { kind: 'bad_response' },
    ],
  ])('%s', async (_name, body, expected) => {
    const { provider } = setup(() => jsonResponse(200, body))
    const failure = await failureOf(provider.generate(request()))
    expect(failure).toMatchObject({ provider: 'gemini', status: 200, ...expected })
  })

  it('does not count a thought image as the answer', async () => {
    const parts = modelContent?.parts.filter((part) => part.thought) ?? []
    const { provider } = setup(() =>
      jsonResponse(200, {
        candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP' }],
      }),
    )
    expect(await failureOf(provider.generate(request()))).toMatchObject({ kind: 'bad_response' })
  })
})

describe('how the Gemini adapter classifies error answers', () => {
  it.each([
    [
      '429 RESOURCE_EXHAUSTED with RetryInfo',
      429,
      fixture('gemini-error-resource-exhausted.json'),
      {},
      { kind: 'rate_limited', retryAfterMs: 19_000, upstreamCode: 'RESOURCE_EXHAUSTED' },
    ],
    [
      '429 RESOURCE_EXHAUSTED with a Retry-After header, which wins',
      429,
      fixture('gemini-error-resource-exhausted.json'),
      { 'retry-after': '3' },
      { kind: 'rate_limited', retryAfterMs: 3000 },
    ],
    [
      '429 with a quota of zero',
      429,
      fixture('gemini-error-free-tier-zero.json'),
      {},
      { kind: 'quota', upstreamCode: 'RESOURCE_EXHAUSTED' },
    ],
    [
      '503 UNAVAILABLE',
      503,
      fixture('gemini-error-unavailable.json'),
      {},
      { kind: 'unavailable', upstreamCode: 'UNAVAILABLE' },
    ],
    [
      '504 DEADLINE_EXCEEDED',
      504,
      {
        error: {
          code: 504,
          message: 'Deadline expired before operation could complete.',
          status: 'DEADLINE_EXCEEDED',
        },
      },
      {},
      { kind: 'unavailable' },
    ],
    ['500 INTERNAL', 500, fixture('gemini-error-internal.json'), {}, { kind: 'ambiguous' }],
    ['409 ABORTED', 409, { error: { code: 409, status: 'ABORTED' } }, {}, { kind: 'unavailable' }],
    [
      '501 NOT_IMPLEMENTED',
      501,
      { error: { code: 501, message: 'Method not implemented.', status: 'NOT_IMPLEMENTED' } },
      {},
      { kind: 'rejected', upstreamCode: 'NOT_IMPLEMENTED' },
    ],
    ['529 from a proxy', 529, 'overloaded', {}, { kind: 'unavailable' }],
    [
      '400 INVALID_ARGUMENT',
      400,
      fixture('gemini-error-invalid-argument.json'),
      {},
      { kind: 'rejected', upstreamCode: 'INVALID_ARGUMENT' },
    ],
    [
      '400 missing thought_signature',
      400,
      fixture('gemini-error-thought-signature.json'),
      {},
      {
        kind: 'rejected',
        message: expect.stringMatching(/lost its thoughtSignature.*replay the stored modelTurn/),
      },
    ],
    [
      '400 API key not valid',
      400,
      fixture('gemini-error-api-key-invalid.json'),
      {},
      { kind: 'auth' },
    ],
    [
      '403 PERMISSION_DENIED',
      403,
      fixture('gemini-error-permission-denied.json'),
      {},
      { kind: 'auth' },
    ],
    [
      'an array-wrapped error',
      503,
      [fixture('gemini-error-unavailable.json')],
      {},
      { kind: 'unavailable', upstreamCode: 'UNAVAILABLE' },
    ],
  ])('%s', async (_name, status, body, headers, expected) => {
    const { provider } = setup(() => jsonResponse(status, body, headers))
    const failure = await failureOf(provider.generate(request()))
    expect(failure).toMatchObject({ provider: 'gemini', status, ...expected })
  })

  it.each([
    ['ECONNREFUSED', 'not_sent'],
    ['ENOTFOUND', 'not_sent'],
    ['ECONNRESET', 'ambiguous'],
  ])('fetch throwing %s is %s', async (code, kind) => {
    const { provider } = setup(() => {
      throw fetchFailed(code)
    })
    expect(await failureOf(provider.generate(request()))).toMatchObject({ kind })
  })

  it('is a timeout when its own timeoutMs fires', async () => {
    const { provider } = setup(hangingResponder(), { timeoutMs: 10 })
    expect(await failureOf(provider.generate(request()))).toMatchObject({ kind: 'timeout' })
  })
})

it('exports the documented default safety settings', () => {
  expect(DEFAULT_GEMINI_SAFETY_SETTINGS).toHaveLength(4)
})
