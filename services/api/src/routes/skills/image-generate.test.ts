import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { type ProviderName, UpstreamFailure } from '../../providers/types.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

const sha256 = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex')

/** A run of base64 long enough to be image data (a PNG's base64 starts with iVBORw0KGgo). */
const BASE64_RUN = /[A-Za-z0-9+/]{120,}/

const fixedNow = new Date('2026-11-21T10:00:00.000Z')

async function skill(t: TestApp, body: Record<string, unknown>) {
  const response = await t.app.request('/v1/skills/image-generate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  return { response, text, body: JSON.parse(text) as Record<string, unknown> }
}

function failingLocal(failure: UpstreamFailure) {
  return {
    name: 'local' as ProviderName,
    async generate(): Promise<never> {
      throw failure
    },
  }
}

describe('POST /v1/skills/image-generate', () => {
  let t: TestApp
  afterEach(async () => {
    await t.close()
  })

  it('answers the envelope exactly, with one image block and no base64 anywhere', async () => {
    t = await createTestApp({ clock: { now: () => fixedNow } })
    const prompt = 'A lighthouse at dusk, watercolor'
    const { response, text, body } = await skill(t, { prompt, sourceTaskId: 'task-17' })
    expect(response.status).toBe(200)
    expect(text).not.toMatch(BASE64_RUN)
    expect(text).not.toContain('iVBORw0KGgo')
    const result = body.result as Record<string, string>
    const assetId = result.assetId ?? ''
    expect(body).toEqual({
      ok: true,
      result: {
        assetId: expect.stringMatching(/^ast_[0-9A-Z]{26}$/),
        contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        sizeBytes: expect.any(Number),
        cdnUrl: `/v1/assets/${assetId}/content`,
        model: 'local-sketch',
        size: '1024x1024',
        promptHash: sha256(prompt),
        generationId: expect.stringMatching(/^gen_/),
        cost: 0,
      },
      contentBlocks: [{ kind: 'image', assetId, mediaType: 'image/png', alt: prompt }],
    })

    const content = await t.app.request(result.cdnUrl ?? '')
    const bytes = new Uint8Array(await content.arrayBuffer())
    expect(bytes.byteLength).toBe(result.sizeBytes)
    expect(sha256(bytes)).toBe(result.contentHash)

    const { data: asset } = await t.client.GET('/v1/assets/{id}', {
      params: { path: { id: assetId } },
    })
    expect(asset).toMatchObject({
      kind: 'image',
      mediaType: 'image/png',
      width: 1024,
      height: 1024,
      folderPath: '/generated/images/2026-11',
      description: prompt,
      sourceTaskId: 'task-17',
    })
    const { data: record } = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: result.generationId ?? '' } },
    })
    expect(record).toMatchObject({
      operation: 'skill',
      status: 'succeeded',
      sourceTaskId: 'task-17',
      n: 1,
    })
  })

  it('keeps alt within 100 characters and the description within 500', async () => {
    t = await createTestApp()
    const prompt = `${'a very long prompt about a harbour at night, '.repeat(14)}end`.slice(0, 620)
    const { body } = await skill(t, { prompt, size: '1536x1024', sourceAgentImUserId: 'agent-9' })
    const [block] = body.contentBlocks as { alt: string; assetId: string }[]
    expect(block?.alt.length).toBeLessThanOrEqual(100)
    expect(block?.alt.startsWith(prompt.slice(0, 90))).toBe(true)
    expect((body.result as { size: string }).size).toBe('1536x1024')
    const { data: asset } = await t.client.GET('/v1/assets/{id}', {
      params: { path: { id: block?.assetId ?? '' } },
    })
    expect(asset?.description).toBe(prompt.slice(0, 500))
    expect(asset?.sourceAgentImUserId).toBe('agent-9')
    expect(asset?.folderPath).toBe(`/generated/images/${new Date().toISOString().slice(0, 7)}`)
  })

  it('logs the one-line report with hash and sizes, never bytes', async () => {
    t = await createTestApp()
    const prompt = 'Sixty-one characters and more: a quiet street in the rain, at night, neon'
    const { body } = await skill(t, { prompt })
    const result = body.result as Record<string, string>
    const reports = t.logLines.filter((line) => String(line.msg).startsWith('[image-generate]'))
    expect(reports).toHaveLength(1)
    expect(reports[0]?.msg).toBe(
      `[image-generate] generated assetId=${result.assetId} model=local-sketch size=1024x1024 ` +
        `sha=${result.contentHash?.slice(0, 12)} cost=0c prompt=${JSON.stringify(`${prompt.slice(0, 60)}…`)}`,
    )
    for (const line of t.logLines) {
      expect(JSON.stringify(line)).not.toMatch(BASE64_RUN)
    }
  })

  it.each([
    ['an empty prompt', { prompt: '' }, 400, 'invalid_request'],
    ['a prompt over 4000 characters', { prompt: 'x'.repeat(4001) }, 400, 'invalid_request'],
    ['a size outside the skill list', { prompt: 'cat', size: '256x256' }, 400, 'invalid_request'],
    ['n other than 1', { prompt: 'cat', n: 2 }, 400, 'invalid_request'],
    ['an unknown model', { prompt: 'cat', model: 'nope' }, 400, 'model_not_found'],
    ['a model without its key', { prompt: 'cat', model: 'dall-e-3' }, 400, 'model_not_found'],
  ])('wraps the error of %s as { ok: false, error }', async (_name, request, status, code) => {
    t = await createTestApp()
    const { response, body } = await skill(t, request)
    expect(response.status).toBe(status)
    expect(body).toEqual({
      ok: false,
      error: expect.objectContaining({
        code,
        type: expect.any(String),
        message: expect.any(String),
      }),
    })
    expect((body.error as { requestId: string }).requestId).toBe(
      response.headers.get('x-request-id'),
    )
  })

  it.each([
    [
      'a content-policy refusal',
      new UpstreamFailure('content_policy', 'local', 'refused', {
        stage: 'output',
        reason: 'violence',
      }),
      400,
      { code: 'content_policy_violation', stage: 'output', reason: 'violence' },
    ],
    [
      'an unusable answer',
      new UpstreamFailure('bad_response', 'local', 'answered 200 without an image', {
        status: 200,
      }),
      502,
      { code: 'upstream_error', reason: 'bad_response' },
    ],
    [
      "the operator's quota",
      new UpstreamFailure('quota', 'local', 'out of quota', {
        status: 429,
        upstreamCode: 'insufficient_quota',
      }),
      503,
      { code: 'upstream_unavailable', reason: 'insufficient_quota' },
    ],
  ])('answers %s with the matching status, never retried', async (_name, thrown, status, error) => {
    t = await createTestApp({ providers: { local: failingLocal(thrown) } })
    const { response, body } = await skill(t, { prompt: 'a cat' })
    expect(response.status).toBe(status)
    expect(response.headers.get('x-should-retry')).toBe('false')
    expect(body).toEqual({ ok: false, error: expect.objectContaining(error) })
    const reports = t.logLines.filter((line) => String(line.msg).startsWith('[image-generate]'))
    expect(reports).toEqual([])
  })
})
