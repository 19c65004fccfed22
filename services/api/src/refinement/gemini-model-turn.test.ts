import { describe, expect, it } from 'vitest'
import { createGeminiProvider } from '../providers/gemini.ts'
import { fixture, jsonResponse, recordingFetch } from '../providers/testing/recording-fetch.ts'
import { UnreplayableModelTurnError } from './errors.ts'
import { modelTurnForImage, replayableModelTurn } from './gemini-model-turn.ts'

const where = { stepIndex: 0, generationId: 'gen_a' }
const image = (data: string, extra: Record<string, unknown> = {}) => ({
  inlineData: { mimeType: 'image/png', data },
  ...extra,
})

describe('modelTurnForImage', () => {
  it('returns a single stored turn (n = 1) as it is', () => {
    const turn = { role: 'model', parts: [image('AAAA')] }
    expect(modelTurnForImage(turn, 0, where)).toBe(turn)
  })

  it('finds the call that produced image i of an n > 1 generation, skipping thought drafts', () => {
    const first = {
      role: 'model',
      parts: [
        image('draft', { thought: true }),
        { text: 'one' },
        image('one', { thoughtSignature: 's1' }),
      ],
    }
    const second = {
      role: 'model',
      parts: [
        { inlineData: { mimeType: 'text/plain', data: 'bm90ZQ==' } },
        image('two'),
        { inlineData: { data: 'three' } },
      ],
    }
    const third = { role: 'model', parts: [image('four')] }
    const stored = [first, second, third]
    expect(modelTurnForImage(stored, 0, where)).toBe(first)
    expect(modelTurnForImage(stored, 1, where)).toBe(second)
    // An inlineData part without a media type counts as an image, as the adapter counts it.
    expect(modelTurnForImage(stored, 2, where)).toBe(second)
    expect(modelTurnForImage(stored, 3, where)).toBe(third)
    expect(() => modelTurnForImage(stored, 4, where)).toThrow(
      new UnreplayableModelTurnError(
        0,
        'gen_a',
        'no stored turn produced image 5 (the turns hold 4 images)',
      ),
    )
  })

  it("reads the service's array of batches, each a content or an array of contents", () => {
    const one = { role: 'model', parts: [image('one')] }
    const two = { role: 'model', parts: [image('two')] }
    const three = { role: 'model', parts: [image('three')] }
    const stored = [[one, two], three]
    expect(modelTurnForImage(stored, 0, where)).toBe(one)
    expect(modelTurnForImage(stored, 1, where)).toBe(two)
    expect(modelTurnForImage(stored, 2, where)).toBe(three)
    expect(modelTurnForImage([one], 0, where)).toBe(one)
  })

  it('agrees with the adapter: image i of an n = 2 result comes from turn i', async () => {
    const answer = fixture('gemini-image-success.json')
    const { fetch } = recordingFetch(() => jsonResponse(200, answer))
    const provider = createGeminiProvider({
      baseUrl: 'https://gemini.example/v1beta',
      apiKey: 'k',
      fetch,
    })
    const result = await provider.generate({
      upstreamModel: 'gemini-3-pro-image-preview',
      prompt: 'p',
      n: 2,
      size: undefined,
      signal: new AbortController().signal,
    })
    expect(result.images).toHaveLength(2)
    const stored = JSON.parse(JSON.stringify(result.modelTurn)) as unknown[]
    expect(modelTurnForImage(stored, 1, where)).toBe(stored[1])
    expect(replayableModelTurn(modelTurnForImage(stored, 1, where), where)).toStrictEqual(stored[1])
  })
})
