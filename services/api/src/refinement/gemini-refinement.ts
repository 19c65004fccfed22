import { buildGeminiContents } from './gemini-history.ts'
import type { GeminiContent } from './gemini-model-turn.ts'
import { type FramingOptions, frameGenerationText, frameRefinementText } from './prompt-framing.ts'
import type { ConversationStep, InputImage } from './types.ts'

export type GeminiTurnRequest = FramingOptions & {
  /** Earlier steps, root first; empty for a first generation. */
  chain: readonly ConversationStep[]
  /** The caller's own words for this step. */
  prompt: string
  inputs: readonly InputImage[]
  maxTurns: number
}

export type GeminiTurn = {
  /** The request body's `contents`. */
  contents: GeminiContent[]
  /** The new user turn's text as sent: store it as the step's `sentText` for later replays. */
  sentText: string
}

/**
 * Frames the caller's prompt (refinement wording when there is a chain, first-turn wording when
 * not) and builds the conversation around it.
 */
export function buildGeminiTurn(request: GeminiTurnRequest): GeminiTurn {
  const framing: FramingOptions = {}
  if (request.strictContent !== undefined) {
    framing.strictContent = request.strictContent
  }
  if (request.size !== undefined) {
    framing.size = request.size
  }
  const sentText =
    request.chain.length > 0
      ? frameRefinementText(request.prompt, request.inputs, framing)
      : frameGenerationText(request.prompt, request.inputs, framing)
  const contents = buildGeminiContents(request.chain, sentText, request.inputs, {
    maxTurns: request.maxTurns,
  })
  return { contents, sentText }
}
