import { describe, expect, it } from 'vitest'
import { ChainTooLongError } from './errors.ts'
import { buildGeminiTurn } from './gemini-refinement.ts'
import { REFINEMENT_FRAMING, STRICT_CONTENT_CONSTRAINT } from './prompt-framing.ts'
import type { ConversationStep, InputImage } from './types.ts'

const logo: InputImage = {
  bytes: new Uint8Array([1, 2, 3]),
  mediaType: 'image/png',
  role: 'logo',
  displayName: 'Acme',
}
const modelTurn = {
  role: 'model',
  parts: [{ inlineData: { mimeType: 'image/png', data: 'AQI=' }, thoughtSignature: 'sig' }],
}

describe('buildGeminiTurn', () => {
  it('frames a first generation with the first-turn wording', () => {
    const turn = buildGeminiTurn({
      chain: [],
      prompt: 'a sailing boat',
      inputs: [logo],
      maxTurns: 5,
      strictContent: true,
      size: { width: 1024, height: 1024 },
    })
    expect(turn.sentText).toBe(
      `${STRICT_CONTENT_CONSTRAINT}a sailing boat\n\nImage 1 is the logo 'Acme': reproduce it exactly, without redrawing, recolouring or distorting it.\n\nGenerate as 1024x1024 pixels.`,
    )
    expect(turn.contents).toEqual([
      {
        role: 'user',
        parts: [{ inlineData: { mimeType: 'image/png', data: 'AQID' } }, { text: turn.sentText }],
      },
    ])
  })

  it('frames a refinement with the refinement wording and replays the chain', () => {
    const chain: ConversationStep[] = [
      { prompt: 'a sailing boat', sentText: 'a sailing boat (as sent)', inputs: [], modelTurn },
    ]
    const turn = buildGeminiTurn({ chain, prompt: 'make the sail red', inputs: [], maxTurns: 5 })
    expect(turn.sentText).toBe(`${REFINEMENT_FRAMING}make the sail red`)
    expect(turn.contents).toEqual([
      { role: 'user', parts: [{ text: 'a sailing boat (as sent)' }] },
      modelTurn,
      { role: 'user', parts: [{ text: `${REFINEMENT_FRAMING}make the sail red` }] },
    ])
  })

  it('refuses a chain over the limit before framing anything', () => {
    const chain: ConversationStep[] = [{ prompt: 'a', inputs: [], modelTurn }]
    expect(() => buildGeminiTurn({ chain, prompt: 'b', inputs: [], maxTurns: 1 })).toThrow(
      ChainTooLongError,
    )
  })
})
