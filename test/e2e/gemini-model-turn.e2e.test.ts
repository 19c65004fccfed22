import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../../services/api/src/testing/test-app.ts'
import { type FakeUpstream, startFakeUpstream } from '../fakes/fake-upstream.ts'

/**
 * In-process app, real HTTP to the fake Gemini upstream: the model turn a refinement needs
 * (thought signatures included) is stored with the generation and never shipped to clients.
 */
describe('Gemini model turns', () => {
  let fake: FakeUpstream
  let t: TestApp
  beforeEach(async () => {
    fake = await startFakeUpstream()
    t = await createTestApp({
      env: { IMAGEGATE_GEMINI_API_KEY: 'gm-fake', IMAGEGATE_GEMINI_BASE_URL: `${fake.url}/v1beta` },
    })
  })
  afterEach(async () => {
    await t.close()
    await fake.close()
  })

  const signature = (call: number) => Buffer.from(`fake-signature-${call}`).toString('base64')

  it('drops thought parts from the answer and stores the thoughtSignature with the generation', async () => {
    const response = await t.app.request('/v1/images/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.5-flash-image',
        prompt: 'a fox in snow',
        size: '1792x1024',
      }),
    })
    expect(response.status).toBe(200)
    const text = await response.text()
    const body = JSON.parse(text) as {
      generation_id: string
      data: { b64_json: string }[]
      warnings: string[]
    }
    expect(body.data).toHaveLength(1)
    // 1792x1024 is no Gemini aspect ratio: mapped to the nearest, and said so.
    expect(body.warnings).toContain(
      'size 1792x1024: aspect ratio sent as 16:9, the nearest Gemini supports',
    )
    expect(
      Buffer.from(body.data[0]?.b64_json ?? '', 'base64').equals(Buffer.from(fake.image)),
    ).toBe(true)
    for (const leak of ['Planning the composition', 'thoughtSignature', signature(0)]) {
      expect(text).not.toContain(leak)
    }

    const [call] = fake.calls
    expect(call?.headers['x-goog-api-key']).toBe('gm-fake')
    expect(call?.body).toMatchObject({
      generationConfig: { candidateCount: 1, imageConfig: { aspectRatio: '16:9' } },
      safetySettings: expect.arrayContaining([
        { category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_MEDIUM_AND_ABOVE' },
      ]),
    })

    const row = await t.deps.generationsRepo.get('default', body.generation_id)
    const turns = row?.modelTurn as { role: string; parts: Record<string, unknown>[] }[]
    expect(turns).toHaveLength(1)
    expect(turns[0]?.role).toBe('model')
    const imagePart = turns[0]?.parts.find((part) => part.inlineData !== undefined)
    expect(imagePart?.thoughtSignature).toBe(signature(0))

    const record = await (await t.app.request(`/v1/generations/${body.generation_id}`)).text()
    expect(record).not.toContain(signature(0))
    expect(record).not.toContain('modelTurn')
  })

  it('fans n out to one call per image and stores each call’s turn', async () => {
    const { data } = await t.client.POST('/v1/images/generations', {
      body: { model: 'gemini-2.5-flash-image', prompt: 'three foxes', n: 3 },
    })
    expect(data?.data).toHaveLength(3)
    expect(fake.calls.filter((call) => call.shape === 'gemini')).toHaveLength(3)
    expect(data?.cost).toBeCloseTo(3 * 3.9, 6)
    const row = await t.deps.generationsRepo.get('default', data?.generation_id ?? '')
    const turns = row?.modelTurn as {
      parts: { thoughtSignature?: string; inlineData?: unknown }[]
    }[]
    const signatures = turns.map(
      (turn) => turn.parts.find((part) => part.inlineData)?.thoughtSignature,
    )
    expect(new Set(signatures)).toEqual(new Set([signature(0), signature(1), signature(2)]))
  })

  it('sends Google Search grounding only to a model whose catalog entry allows it', async () => {
    const grounded = await t.client.POST('/v1/images/generations', {
      body: {
        model: 'gemini-3-pro-image-preview',
        prompt: 'todays weather in Paris',
        grounding: true,
      },
    })
    expect(grounded.data?.data).toHaveLength(1)
    expect(fake.calls[0]?.body).toMatchObject({ tools: [{ googleSearch: {} }] })

    const refused = await t.app.request('/v1/images/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash-image', prompt: 'weather', grounding: true }),
    })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({
      error: { code: 'unsupported_parameter', param: 'grounding' },
    })
    expect(fake.calls).toHaveLength(1)
  })
})
