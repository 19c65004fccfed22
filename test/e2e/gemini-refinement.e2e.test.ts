import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import builtIn from '../../services/api/src/catalog/default-models.json' with { type: 'json' }
import { writeCatalogFile } from '../../services/api/src/testing/catalog-file.ts'
import { createTestApp, type TestApp } from '../../services/api/src/testing/test-app.ts'
import { type FakeUpstream, startFakeUpstream, type UpstreamCall } from '../fakes/fake-upstream.ts'

/**
 * Multi-turn Gemini refinements against the fake Gemini upstream over real HTTP: the gateway
 * rebuilds the conversation itself, replaying each earlier user turn as it was sent and each
 * model turn exactly as Gemini answered it, thought signatures on text and image parts included.
 */

type Part = Record<string, unknown>
type Content = { role: string; parts: Part[] }
type GeminiBody = { contents: Content[] }

const MODEL = 'gemini-2.5-flash-image'

describe('Gemini refinement chains', () => {
  let fake: FakeUpstream
  let t: TestApp
  let catalog: ReturnType<typeof writeCatalogFile>
  beforeEach(async () => {
    fake = await startFakeUpstream()
    // A short chain limit, so the test can reach it.
    catalog = writeCatalogFile(
      builtIn.models.map((model) => (model.id === MODEL ? { ...model, maxTurns: 3 } : model)),
    )
    t = await createTestApp({
      env: {
        IMAGEGATE_GEMINI_API_KEY: 'gm-fake',
        IMAGEGATE_GEMINI_BASE_URL: `${fake.url}/v1beta`,
        IMAGEGATE_MODELS_FILE: catalog.file,
      },
    })
  })
  afterEach(async () => {
    await t.close()
    await fake.close()
    catalog.remove()
  })

  const geminiCalls = () => fake.calls.filter((call) => call.shape === 'gemini')
  const bodyOf = (call: UpstreamCall | undefined) => call?.body as GeminiBody
  /** The model's content exactly as the fake sent it. */
  const answeredContent = (call: UpstreamCall | undefined) =>
    (JSON.parse(call?.answer ?? '{}') as { candidates: { content: Content }[] }).candidates[0]
      ?.content as Content

  async function post(path: string, body: unknown) {
    const response = await t.app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }

  it('replays a three-step chain byte for byte, with the signatures of text and image parts', async () => {
    const root = await post('/v1/images/generations', { model: MODEL, prompt: 'a lighthouse' })
    expect(root.status).toBe(200)
    const rootId = root.body.generation_id as string

    const child = await post('/v1/images/generations', {
      prompt: 'make the sky stormy',
      parent_generation_id: rootId,
    })
    expect(child.status).toBe(200)
    expect(child.body.model).toBe(MODEL)
    const childId = child.body.generation_id as string
    const childAsset = (child.body.data as { asset_id: string }[])[0]?.asset_id

    const grandchild = await post('/v1/skills/image-generate', {
      prompt: 'add a small red boat',
      parentAssetId: childAsset,
    })
    expect(grandchild.status).toBe(200)
    const grandchildId = (grandchild.body.result as { generationId: string }).generationId

    const [first, second, third] = geminiCalls()
    const firstUser = bodyOf(first).contents[0] as Content
    // A first turn: the reference client's strict rules, the prompt and the size.
    expect(bodyOf(first).contents).toHaveLength(1)
    expect(firstUser.parts[0]?.text).toMatch(/^STRICT RULES:[\s\S]*a lighthouse\n\nGenerate as/)

    const firstModel = answeredContent(first)
    const secondModel = answeredContent(second)
    // Both signed parts are in the answers, so the replay below covers text and image parts.
    for (const content of [firstModel, secondModel]) {
      const signed = content.parts.filter((part) => typeof part.thoughtSignature === 'string')
      expect(signed.map((part) => ('text' in part ? 'text' : 'image'))).toEqual(['text', 'image'])
    }

    // Step two: the root's user turn as sent, the model turn as answered, the instruction.
    const secondContents = bodyOf(second).contents
    expect(secondContents.map((content) => content.role)).toEqual(['user', 'model', 'user'])
    expect(JSON.stringify(secondContents[0])).toBe(JSON.stringify(firstUser))
    expect(JSON.stringify(secondContents[1])).toBe(JSON.stringify(firstModel))
    expect(second?.raw.toString('utf8')).toContain(JSON.stringify(firstModel))
    const secondText = secondContents[2]?.parts[0]?.text as string
    expect(secondText).toMatch(
      /^Apply this refinement while maintaining:[\s\S]*make the sky stormy/,
    )
    expect(secondText).not.toContain('STRICT RULES')

    // Step three: the whole history, each turn exactly as it went or came the first time.
    const thirdContents = bodyOf(third).contents
    expect(thirdContents.map((content) => content.role)).toEqual([
      'user',
      'model',
      'user',
      'model',
      'user',
    ])
    const thirdRaw = third?.raw.toString('utf8') ?? ''
    for (const [index, expected] of [
      firstUser,
      firstModel,
      secondContents[2],
      secondModel,
    ].entries()) {
      expect(JSON.stringify(thirdContents[index]), `content ${index}`).toBe(
        JSON.stringify(expected),
      )
      expect(thirdRaw).toContain(JSON.stringify(expected))
    }
    expect(thirdContents[4]?.parts[0]?.text).toMatch(/add a small red boat/)

    // The lineage, in order, and no signature ever reaches a client.
    const chain = await t.app.request(`/v1/generations?rootId=${rootId}`)
    const listed = await chain.text()
    expect((JSON.parse(listed) as { data: { id: string }[] }).data.map((row) => row.id)).toEqual([
      rootId,
      childId,
      grandchildId,
    ])
    expect(listed).not.toContain('thoughtSignature')
    expect(listed).not.toContain(String(firstModel.parts[1]?.thoughtSignature))

    // A fourth step would make four turns; this model takes three.
    const tooLong = await post('/v1/images/generations', {
      prompt: 'one more',
      parent_generation_id: grandchildId,
    })
    expect(tooLong.status).toBe(400)
    expect(tooLong.body.error).toMatchObject({
      code: 'invalid_request',
      param: 'parent_generation_id',
    })
    expect((tooLong.body.error as { message: string }).message).toMatch(/3/)
    expect(geminiCalls()).toHaveLength(3)
  })

  it('answers a missing thought_signature refusal with an upstream_error that names the step', async () => {
    const root = await post('/v1/images/generations', { model: MODEL, prompt: 'a lighthouse' })
    const rootId = root.body.generation_id as string
    fake.script(['missing_thought_signature'])
    const refined = await post('/v1/images/generations', {
      prompt: 'make it night',
      parent_generation_id: rootId,
    })
    expect(refined.status).toBe(502)
    const error = refined.body.error as { code: string; message: string }
    expect(error.code).toBe('upstream_error')
    expect(error.message).toMatch(
      /without a thoughtSignature \(Gemini: content position 2, part position 2\)/,
    )
    expect(error.message).toContain(rootId)
    // Not retried: the same history would be refused again.
    expect(geminiCalls()).toHaveLength(2)

    const list = await t.app.request('/v1/generations?status=failed')
    const failed = (await list.json()) as {
      data: { parentGenerationId?: string; error?: { code: string } }[]
    }
    expect(failed.data[0]).toMatchObject({
      parentGenerationId: rootId,
      error: { code: 'upstream_error' },
    })
  })

  it('refines with another model by sending the parent image, not the Gemini history', async () => {
    const root = await post('/v1/images/generations', { model: MODEL, prompt: 'a lighthouse' })
    const rootId = root.body.generation_id as string
    const refined = await post('/v1/images/generations', {
      model: 'local-sketch',
      prompt: 'make it night',
      parent_generation_id: rootId,
    })
    expect(refined.status).toBe(200)
    expect(geminiCalls()).toHaveLength(1)
    const record = await t.app.request(`/v1/generations/${refined.body.generation_id}`)
    expect(await record.json()).toMatchObject({
      parentGenerationId: rootId,
      rootGenerationId: rootId,
      inputs: [{ role: 'edit_target' }],
    })
  })
})
