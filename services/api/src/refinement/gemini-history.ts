import { ChainTooLongError } from './errors.ts'
import { type GeminiContent, type GeminiPart, replayableModelTurn } from './gemini-model-turn.ts'
import type { ConversationStep, InputImage } from './types.ts'

/**
 * The `contents` of a `generateContent` refinement: for each earlier step its user turn, then its
 * model turn exactly as stored; then the new user turn.
 *
 * Model turns are replayed whole, thought parts included. The adapter drops `thought: true` parts
 * from the *answer* (they are drafts, not results), but the *history* is a different matter:
 * Google's docs say the SDKs keep signatures working by appending the full model response to the
 * history, so the previous model turn's parts are replayed byte for byte
 * (signatures sit on image and text parts alike), and Gemini's "missing thought_signature" errors
 * point at parts by position, which dropping parts would shift. Peers that rebuilt the turn from
 * the image alone are the ones that lost the signatures.
 */

export type GeminiHistoryOptions = {
  /** Turns the model accepts in one conversation: earlier steps + the new request. */
  maxTurns: number
}

/**
 * @param chain earlier steps, root first (empty for a first generation)
 * @param newText the new user turn's text, already framed (see prompt-framing.ts)
 * @param newInputs the new turn's images, in the order the text numbers them
 */
export function buildGeminiContents(
  chain: readonly ConversationStep[],
  newText: string,
  newInputs: readonly InputImage[],
  options: GeminiHistoryOptions,
): GeminiContent[] {
  assertChainFits(chain.length, options.maxTurns)
  const contents: GeminiContent[] = []
  chain.forEach((step, stepIndex) => {
    contents.push(userTurn(step.sentText ?? step.prompt, step.inputs))
    contents.push(
      replayableModelTurn(step.modelTurn, { stepIndex, generationId: step.generationId }),
    )
  })
  contents.push(userTurn(newText, newInputs))
  return contents
}

/** Throws ChainTooLongError when `earlierSteps` + the new request exceed `maxTurns`. */
export function assertChainFits(earlierSteps: number, maxTurns: number): void {
  if (!Number.isInteger(maxTurns) || maxTurns < 1) {
    throw new RangeError(`maxTurns must be a positive integer, got ${maxTurns}`)
  }
  if (earlierSteps + 1 > maxTurns) {
    throw new ChainTooLongError(earlierSteps + 1, maxTurns)
  }
}

/**
 * A user turn: the images first, in order, then the text that numbers them ("Image 1 is …"),
 * as the reference puts an input image before its prompt.
 */
export function userTurn(text: string, inputs: readonly InputImage[]): GeminiContent {
  const parts: GeminiPart[] = inputs.map((input) => ({
    inlineData: { mimeType: input.mediaType, data: Buffer.from(input.bytes).toString('base64') },
  }))
  parts.push({ text })
  return { role: 'user', parts }
}
