import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Fault } from '../fakes/fake-upstream.ts'
import { type Gateway, startGateway } from '../support/gateway.ts'

/**
 * Upstream faults end to end: the real server process against the fake upstream over loopback.
 * gpt-image-1 gets a 1.5 s deadline (a catalog copy via IMAGEGATE_MODELS_FILE) for the deadline
 * rows; the retry rows use gpt-image-1-mini, whose deadline is the default 180 s.
 */
const SHORT_DEADLINE_MS = 1_500

let gw: Gateway
beforeAll(async () => {
  gw = await startGateway({ modelChanges: { 'gpt-image-1': { timeoutMs: SHORT_DEADLINE_MS } } })
})
afterAll(async () => {
  await gw?.close()
})
beforeEach(() => {
  gw.fake.reset()
})

const generationCalls = () => gw.fake.calls.filter((call) => call.shape !== 'file')

async function generate(model: string, faults: Fault[], prompt = `a kite over ${model}`) {
  gw.fake.script(faults)
  return gw.post('/v1/images/generations', { model, prompt })
}

async function recordOf(id: string) {
  const { data } = await gw.client.GET('/v1/generations/{id}', { params: { path: { id } } })
  return data
}

async function latestRecord() {
  const { data } = await gw.client.GET('/v1/generations', { params: { query: { limit: 1 } } })
  return data?.data[0]
}

describe('retried: the upstream said it did not process the request', () => {
  it.each([
    [
      'B2: 429 with Retry-After in seconds',
      { mode: 'rate_limit_seconds', retryAfterSeconds: 1 },
      429,
      'rate_limited',
    ],
    [
      'B2: 429 with an HTTP-date Retry-After',
      { mode: 'rate_limit_date', retryAfterSeconds: 1 },
      429,
      'rate_limited',
    ],
    ['B3: 503', 'unavailable_503', 503, 'unavailable'],
    ['B3: 502 from a proxy', 'bad_gateway_502', 502, 'unavailable'],
  ] as const)(
    '%s, then success: 2 upstream calls, both on the record',
    async (_name, fault, status, outcome) => {
      const answer = await generate('gpt-image-1-mini', [fault, 'ok'])
      expect(answer.status).toBe(200)
      expect(answer.body.data).toHaveLength(1)
      expect(generationCalls()).toHaveLength(2)
      const record = await recordOf(answer.body.generation_id)
      expect(record?.status).toBe('succeeded')
      expect(record?.attempts).toMatchObject([
        { attempt: 1, outcome, status },
        { attempt: 2, outcome: 'success' },
      ])
      const [first, second] = record?.attempts ?? []
      if (status === 429) {
        // The advised wait is honoured: never retried before Retry-After.
        expect(first?.retryAfterMs).toBeGreaterThan(0)
        expect(second?.waitedMs).toBeGreaterThanOrEqual(first?.retryAfterMs ?? Number.NaN)
        expect(
          Date.parse(second?.startedAt ?? '') - Date.parse(first?.startedAt ?? ''),
        ).toBeGreaterThanOrEqual(first?.retryAfterMs ?? Number.NaN)
        expect(answer.ms).toBeGreaterThanOrEqual(first?.retryAfterMs ?? Number.NaN)
      }
    },
  )

  it('B2: a Retry-After beyond the deadline fails at once, after 1 call, passing the advice on', async () => {
    const answer = await generate('gpt-image-1', [
      { mode: 'rate_limit_seconds', retryAfterSeconds: 5 },
    ])
    expect(answer.status).toBe(503)
    expect(answer.body.error).toMatchObject({
      code: 'upstream_unavailable',
      reason: 'rate_limited',
    })
    expect(answer.headers.get('retry-after')).toBe('5')
    expect(answer.headers.get('x-should-retry')).toBe('false')
    expect(answer.ms).toBeLessThan(SHORT_DEADLINE_MS)
    expect(generationCalls()).toHaveLength(1)
  })
})

describe('not retried: the upstream may have done (and billed) the work, or said no', () => {
  it.each([
    [
      'B3: a 500 (ambiguous)',
      'gpt-image-1-mini',
      'server_error_500',
      502,
      { code: 'upstream_error', upstreamStatus: 500 },
    ],
    [
      'B3: a reset after the headers',
      'gpt-image-1-mini',
      'reset_after_headers',
      502,
      { code: 'upstream_error' },
    ],
    [
      'malformed JSON',
      'gpt-image-1-mini',
      'malformed_json',
      502,
      { code: 'upstream_error', reason: 'bad_response' },
    ],
    [
      'truncated base64',
      'gpt-image-1-mini',
      'truncated_base64',
      502,
      { code: 'upstream_error', reason: 'bad_response' },
    ],
    [
      'OpenAI 200 without images',
      'gpt-image-1-mini',
      'no_image',
      502,
      { code: 'upstream_error', reason: 'bad_response' },
    ],
    [
      'OpenAI moderation_blocked',
      'gpt-image-1-mini',
      'safety_block',
      400,
      { code: 'content_policy_violation', stage: 'input', provider: 'openai' },
    ],
    [
      'OpenAI content_policy_violation',
      'gpt-image-1-mini',
      'prompt_blocked',
      400,
      { code: 'content_policy_violation', stage: 'input' },
    ],
    [
      'OpenAI insufficient_quota (the operator pays, not the caller)',
      'gpt-image-1-mini',
      'insufficient_quota',
      503,
      { code: 'upstream_unavailable', reason: 'insufficient_quota' },
    ],
    [
      'Gemini finishReason IMAGE_SAFETY',
      'gemini-2.5-flash-image',
      'safety_block',
      400,
      {
        code: 'content_policy_violation',
        stage: 'output',
        finishReason: 'IMAGE_SAFETY',
        provider: 'gemini',
      },
    ],
    [
      'Gemini promptFeedback.blockReason',
      'gemini-2.5-flash-image',
      'prompt_blocked',
      400,
      { code: 'content_policy_violation', stage: 'input' },
    ],
    [
      'Gemini 200 without an image',
      'gemini-2.5-flash-image',
      'no_image',
      502,
      {
        code: 'upstream_error',
        finishReason: 'STOP',
        message: expect.stringContaining('I can only describe this scene in words.'),
      },
    ],
    [
      'Gemini RESOURCE_EXHAUSTED with a quota of 0',
      'gemini-2.5-flash-image',
      'insufficient_quota',
      503,
      { code: 'upstream_unavailable', reason: expect.any(String) },
    ],
  ] as const)('%s → %s', async (_name, model, fault, status, error) => {
    const answer = await generate(model, [fault, 'ok', 'ok'])
    expect(answer.status).toBe(status)
    expect(answer.body.error).toMatchObject({
      ...error,
      requestId: answer.headers.get('x-request-id'),
    })
    expect(answer.headers.get('x-should-retry')).toBe('false')
    expect(generationCalls()).toHaveLength(1)
    const record = await latestRecord()
    expect(record).toMatchObject({
      model,
      status: 'failed',
      assetIds: [],
      cost: 0,
      error: { code: error.code },
    })
    expect(record?.attempts).toHaveLength(1)
  })

  it('B5: a slow answer past the model deadline → 504 upstream_timeout, on time', async () => {
    const answer = await generate('gpt-image-1', [{ mode: 'ok', delayMs: 10_000 }])
    expect(answer.status).toBe(504)
    expect(answer.body.error).toMatchObject({ code: 'upstream_timeout', provider: 'openai' })
    expect(answer.headers.get('x-should-retry')).toBe('false')
    expect(answer.ms).toBeGreaterThanOrEqual(SHORT_DEADLINE_MS - 50)
    // Deadline + a margin for a real process on a busy 2-core machine.
    expect(answer.ms).toBeLessThan(SHORT_DEADLINE_MS + 500)
    expect(generationCalls()).toHaveLength(1)
    expect((await latestRecord())?.attempts).toMatchObject([{ attempt: 1, outcome: 'timeout' }])
  })
})

describe('delivered', () => {
  it('stores what the upstream returned and prices it from the catalog', async () => {
    const answer = await generate('gpt-image-1', ['ok'])
    expect(answer.status).toBe(200)
    const [image] = answer.body.data
    expect(Buffer.from(image.b64_json, 'base64').equals(Buffer.from(gw.fake.image))).toBe(true)
    expect(answer.body.cost).toBe(16.7)
    expect(answer.body.usage).toEqual({
      input_tokens: 12,
      input_tokens_details: { image_tokens: 0, text_tokens: 12 },
      output_tokens: 1056,
      total_tokens: 1068,
    })
    // What went upstream: GPT Image never gets response_format.
    expect(generationCalls()[0]?.body).toMatchObject({
      model: 'gpt-image-1',
      prompt: 'a kite over gpt-image-1',
      n: 1,
    })
    expect(generationCalls()[0]?.body).not.toHaveProperty('response_format')
    expect(generationCalls()[0]?.headers.authorization).toBe('Bearer sk-fake')
  })

  it('fetches an upstream url answer into bytes and answers with its own url', async () => {
    gw.fake.script(['url'])
    const answer = await gw.post('/v1/images/generations', {
      model: 'gpt-image-1-mini',
      prompt: 'by url',
      response_format: 'url',
    })
    expect(answer.status).toBe(200)
    expect(gw.fake.calls.map((call) => call.shape)).toEqual(['openai', 'file'])
    // A signed URL: it works where no Authorization header can be sent.
    expect(answer.body.data[0].url).toMatch(
      new RegExp(
        `^${gw.url}/v1/assets/${answer.body.data[0].asset_id}/content\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`,
      ),
    )
    const stored = Buffer.from(await (await fetch(answer.body.data[0].url)).arrayBuffer())
    expect(stored.equals(Buffer.from(gw.fake.image))).toBe(true)
  })
})
