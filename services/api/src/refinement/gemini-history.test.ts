import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readGeminiAnswer } from '../providers/gemini-answer.ts'
import { fixture } from '../providers/testing/recording-fetch.ts'
import { ChainTooLongError, UnreplayableModelTurnError } from './errors.ts'
import { assertChainFits, buildGeminiContents, userTurn } from './gemini-history.ts'
import type { GeminiContent } from './gemini-model-turn.ts'
import type { ConversationStep, InputImage } from './types.ts'

/** What the generations table gives back: `text(..., { mode: 'json' })` is JSON in, JSON out. */
const throughDatabase = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

const png = (seed: number) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, seed, 255 - seed])
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/** The parent's model turn: the recorded Gemini answer, read by the real adapter, then stored. */
const parentTurn = throughDatabase(
  readGeminiAnswer(fixture('gemini-image-success.json')).modelTurn,
) as GeminiContent

/** A child turn: a signed text part before the image, a signed thought draft, unknown fields. */
const childTurn = throughDatabase({
  role: 'model',
  parts: [
    { text: 'Drafting the moon…', thought: true, thoughtSignature: 'EiQKIgEe/tHo+ü//==' },
    { inlineData: { mimeType: 'image/png', data: b64(png(7)) }, thought: true },
    { text: 'Added a moon over the sea.', thoughtSignature: 'CiIBHv7R6L+Zx2s/aW1hZ2U=' },
    {
      inlineData: { mimeType: 'image/png', data: b64(png(8)) },
      thoughtSignature: 'Ct8BAR7+0ejG9zv0Yg4r+VQwE3i9/7xV8d0T//AAAA==',
      futureField: { nested: [1, 'two', null] },
    },
  ],
}) as GeminiContent

/** A grandchild turn: image first, signature on the image only, text after it. */
const grandchildTurn = throughDatabase({
  role: 'model',
  parts: [
    {
      thoughtSignature: 'Cs0CAR7+0ej\u00e9\u{1F34C}sig/with+slashes==',
      inlineData: { data: b64(png(9)), mimeType: 'image/webp' },
    },
    { text: 'Now with a red sail.' },
  ],
}) as GeminiContent

const logo: InputImage = {
  bytes: png(1),
  mediaType: 'image/png',
  role: 'logo',
  displayName: 'Acme',
  assetId: 'ast_logo',
}

const chain: ConversationStep[] = [
  {
    generationId: 'gen_parent',
    prompt: 'a lighthouse at dusk, watercolor',
    sentText: 'a lighthouse at dusk, watercolor\n\nImage 1 is the logo …',
    inputs: [logo],
    modelTurn: parentTurn,
  },
  { generationId: 'gen_child', prompt: 'add a moon', inputs: [], modelTurn: childTurn },
  {
    generationId: 'gen_grandchild',
    prompt: 'make the sail red',
    inputs: [],
    modelTurn: grandchildTurn,
  },
]

const signaturesOf = (content: GeminiContent) => content.parts.map((part) => part.thoughtSignature)

describe('buildGeminiContents over a three-step chain', () => {
  const contents = buildGeminiContents(chain, 'Refinement: add fog', [], { maxTurns: 10 })
  const modelTurns = [contents[1], contents[3], contents[5]] as GeminiContent[]
  const storedTurns = [parentTurn, childTurn, grandchildTurn]

  it('alternates user and model turns and ends with the new user turn', () => {
    expect(contents.map((content) => content.role)).toEqual([
      'user',
      'model',
      'user',
      'model',
      'user',
      'model',
      'user',
    ])
    expect(contents[6]).toEqual({ role: 'user', parts: [{ text: 'Refinement: add fog' }] })
  })

  it('replays every model turn deep-equal to the stored one, parts in the same order', () => {
    storedTurns.forEach((stored, index) => {
      expect(modelTurns[index]).toStrictEqual(stored)
    })
  })

  it('keeps each part byte for byte: the same JSON, and the very same objects', () => {
    storedTurns.forEach((stored, index) => {
      const replayed = modelTurns[index] as GeminiContent
      expect(replayed.parts).toHaveLength(stored.parts.length)
      stored.parts.forEach((part, partIndex) => {
        expect(JSON.stringify(replayed.parts[partIndex])).toBe(JSON.stringify(part))
        expect(replayed.parts[partIndex]).toBe(part)
      })
      expect(JSON.stringify(replayed)).toBe(JSON.stringify(stored))
    })
  })

  it('keeps thoughtSignature on image parts and on text parts, identical to the bytes', () => {
    storedTurns.forEach((stored, index) => {
      const replayed = modelTurns[index] as GeminiContent
      expect(signaturesOf(replayed)).toEqual(signaturesOf(stored))
      for (const [partIndex, signature] of signaturesOf(stored).entries()) {
        const sent = replayed.parts[partIndex]?.thoughtSignature
        expect(sent).toBe(signature)
        if (typeof signature === 'string') {
          expect(Buffer.from(sent as string, 'utf8').equals(Buffer.from(signature, 'utf8'))).toBe(
            true,
          )
        }
      }
    })
    const parentSignature = (
      fixture('gemini-image-success.json') as {
        candidates: { content: { parts: { thoughtSignature?: string }[] } }[]
      }
    ).candidates[0]?.content.parts[3]?.thoughtSignature
    expect(parentSignature).toMatch(/^CpwF/)
    expect(modelTurns[0]?.parts[3]?.thoughtSignature).toBe(parentSignature)
    expect(modelTurns[1]?.parts[2]?.thoughtSignature).toBe('CiIBHv7R6L+Zx2s/aW1hZ2U=')
  })

  it('replays thought parts too (drafts are dropped from answers, not from history)', () => {
    expect(modelTurns[0]?.parts.filter((part) => part.thought === true)).toHaveLength(2)
    expect(modelTurns[1]?.parts[0]).toEqual({
      text: 'Drafting the moon…',
      thought: true,
      thoughtSignature: 'EiQKIgEe/tHo+ü//==',
    })
  })

  it('keeps fields the code does not know, and the key order of each part', () => {
    expect(modelTurns[1]?.parts[3]?.futureField).toEqual({ nested: [1, 'two', null] })
    expect(Object.keys(modelTurns[2]?.parts[0] ?? {})).toEqual(['thoughtSignature', 'inlineData'])
  })

  it('rebuilds each user turn: its images first, then the text as it was sent', () => {
    expect(contents[0]).toEqual({
      role: 'user',
      parts: [
        { inlineData: { mimeType: 'image/png', data: b64(png(1)) } },
        { text: 'a lighthouse at dusk, watercolor\n\nImage 1 is the logo …' },
      ],
    })
    // No recorded sentText: the bare prompt.
    expect(contents[2]).toEqual({ role: 'user', parts: [{ text: 'add a moon' }] })
  })

  it('leaves the stored turns untouched', () => {
    const before = JSON.stringify(storedTurns)
    buildGeminiContents(chain, 'again', [logo], { maxTurns: 10 })
    expect(JSON.stringify(storedTurns)).toBe(before)
  })
})

describe('a chain grown one step at a time, as a fake upstream would see it', () => {
  it('sends every earlier model turn exactly as stored, at every step', () => {
    const sent: GeminiContent[][] = []
    const history: ConversationStep[] = []
    for (const step of chain) {
      sent.push(buildGeminiContents(history, step.prompt, step.inputs, { maxTurns: 3 }))
      history.push(step)
    }
    expect(sent.map((contents) => contents.length)).toEqual([1, 3, 5])
    expect(sent[2]?.[1]).toStrictEqual(parentTurn)
    expect(sent[2]?.[3]).toStrictEqual(childTurn)
    expect(JSON.stringify(sent[2]?.[3])).toBe(JSON.stringify(childTurn))
    // The third step is the last one a 3-turn model takes.
    expect(() => buildGeminiContents(history, 'one more', [], { maxTurns: 3 })).toThrow(
      ChainTooLongError,
    )
  })
})

describe('stored model turns round-trip unchanged (property)', () => {
  const signature = fc.base64String({ minLength: 4, maxLength: 64 })
  const part = fc.oneof(
    fc.record(
      { text: fc.string(), thought: fc.boolean(), thoughtSignature: signature },
      { requiredKeys: ['text'] },
    ),
    fc.record(
      {
        inlineData: fc.record({
          mimeType: fc.constantFrom('image/png', 'image/jpeg'),
          data: signature,
        }),
        thought: fc.boolean(),
        thoughtSignature: signature,
      },
      { requiredKeys: ['inlineData'] },
    ),
    fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }),
  )
  const storedTurn = fc.record({
    role: fc.constant('model' as const),
    parts: fc.array(part, { minLength: 1, maxLength: 8 }),
  })

  it('any stored model turn comes out deep-equal and JSON-identical, parts unchanged', () => {
    fc.assert(
      fc.property(fc.array(storedTurn, { minLength: 1, maxLength: 4 }), (turns) => {
        const stored = turns.map(throughDatabase) as GeminiContent[]
        const snapshot = JSON.stringify(stored)
        const steps = stored.map((modelTurn, index) => ({
          prompt: `step ${index}`,
          inputs: [],
          modelTurn,
        }))
        const contents = buildGeminiContents(steps, 'next', [], { maxTurns: steps.length + 1 })
        stored.forEach((turn, index) => {
          const replayed = contents[2 * index + 1] as GeminiContent
          expect(replayed).toStrictEqual(turn)
          expect(JSON.stringify(replayed)).toBe(JSON.stringify(turn))
          turn.parts.forEach((storedPart, partIndex) => {
            expect(replayed.parts[partIndex]).toBe(storedPart)
          })
        })
        expect(JSON.stringify(stored)).toBe(snapshot)
      }),
      { numRuns: 200 },
    )
  })
})

describe('userTurn', () => {
  it('sends each image as inlineData with its sniffed media type, in order, then the text', () => {
    const face: InputImage = { bytes: png(2), mediaType: 'image/jpeg', role: 'face' }
    expect(userTurn('hello', [logo, face])).toEqual({
      role: 'user',
      parts: [
        { inlineData: { mimeType: 'image/png', data: b64(png(1)) } },
        { inlineData: { mimeType: 'image/jpeg', data: b64(png(2)) } },
        { text: 'hello' },
      ],
    })
  })

  it('encodes only the bytes of a view, not the whole buffer behind it', () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5, 6])
    const view = backing.subarray(2, 4)
    const turn = userTurn('x', [{ bytes: view, mediaType: 'image/png', role: 'reference' }])
    expect(turn.parts[0]).toEqual({ inlineData: { mimeType: 'image/png', data: b64(view) } })
    expect(b64(view)).toBe(Buffer.from([3, 4]).toString('base64'))
  })
})

describe('chain length', () => {
  it('counts earlier steps plus the new request against maxTurns', () => {
    expect(() => assertChainFits(4, 5)).not.toThrow()
    const error = (() => {
      try {
        assertChainFits(5, 5)
      } catch (thrown) {
        return thrown
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(ChainTooLongError)
    expect(error).toMatchObject({ turns: 6, maxTurns: 5, atLeast: false })
    expect((error as Error).message).toBe(
      'This refinement would be turn 6 of its chain; the model accepts at most 5 turns. Start a new chain from the latest image by passing it as an input image instead of a parent',
    )
  })

  it('refuses a maxTurns that is not a positive integer', () => {
    expect(() => assertChainFits(0, 0)).toThrow(RangeError)
    expect(() => assertChainFits(0, 1.5)).toThrow(RangeError)
    expect(() => assertChainFits(0, 1)).not.toThrow()
  })
})

describe('turns that cannot be replayed', () => {
  const stepWith = (modelTurn: unknown): ConversationStep[] => [
    { generationId: 'gen_x', prompt: 'p', inputs: [], modelTurn },
  ]
  it.each([
    [undefined, 'the generation has no stored model turn (only Gemini generations record one)'],
    [null, 'the generation has no stored model turn (only Gemini generations record one)'],
    ['text', 'it is a string, not a content object'],
    [
      [parentTurn, parentTurn],
      'it holds one turn per call (n > 1); pick the turn of one image with modelTurnForImage',
    ],
    [{ role: 'user', parts: [{ text: 'x' }] }, 'its role is "user", not "model"'],
    [{ role: 'model', parts: [] }, 'it has no parts'],
    [{ role: 'model' }, 'it has no parts'],
    [{ role: 'model', parts: [{ text: 'x' }, 'y'] }, 'part 2 is not an object'],
  ])('%j → %s', (modelTurn, problem) => {
    expect(() => buildGeminiContents(stepWith(modelTurn), 'next', [], { maxTurns: 5 })).toThrow(
      new UnreplayableModelTurnError(0, 'gen_x', problem),
    )
  })

  it('says which step and generation it is', () => {
    expect(new UnreplayableModelTurnError(1, 'gen_child', 'it has no parts').message).toBe(
      'The stored model turn of step 2 (generation gen_child) cannot be replayed: it has no parts',
    )
  })

  it('adds the model role when a stored content has none, keeping the parts as they are', () => {
    const parts = [{ text: 'x', thoughtSignature: 'abc' }]
    const [, model] = buildGeminiContents(stepWith({ parts }), 'next', [], { maxTurns: 5 })
    expect(model).toEqual({ parts, role: 'model' })
    expect(model?.parts).toBe(parts)
  })
})
