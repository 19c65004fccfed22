import { UnreplayableModelTurnError } from './errors.ts'

/**
 * The stored Gemini model turn: checked for the shape `generateContent` expects, never rewritten.
 * A part is whatever Gemini sent (`text`, `inlineData`, `thought`, `thoughtSignature`, and fields
 * this code has never heard of); every one of them goes back exactly as it came.
 */

export type GeminiPart = Record<string, unknown>
export type GeminiContent = { role: 'user' | 'model'; parts: GeminiPart[] }

type Where = { stepIndex: number; generationId: string | undefined }

/**
 * The stored turn as a `model` content for `contents`. When it already says `role: 'model'` (what
 * Gemini answers) the result is a shallow copy with the very same part objects, so nothing can be
 * re-encoded; when the role is missing it is added, since `contents` needs one.
 */
export function replayableModelTurn(stored: unknown, where: Where): GeminiContent {
  const fail = (problem: string) =>
    new UnreplayableModelTurnError(where.stepIndex, where.generationId, problem)
  if (stored === undefined || stored === null) {
    throw fail('the generation has no stored model turn (only Gemini generations record one)')
  }
  if (typeof stored !== 'object' || Array.isArray(stored)) {
    throw fail(
      Array.isArray(stored)
        ? 'it holds one turn per call (n > 1); pick the turn of one image with modelTurnForImage'
        : `it is a ${typeof stored}, not a content object`,
    )
  }
  const content = stored as { role?: unknown; parts?: unknown }
  if (content.role !== undefined && content.role !== 'model') {
    throw fail(`its role is ${JSON.stringify(content.role)}, not "model"`)
  }
  const { parts } = content
  if (!Array.isArray(parts) || parts.length === 0) {
    throw fail('it has no parts')
  }
  const badPart = parts.findIndex(
    (part) => typeof part !== 'object' || part === null || Array.isArray(part),
  )
  if (badPart !== -1) {
    throw fail(`part ${badPart + 1} is not an object`)
  }
  return content.role === 'model'
    ? ({ ...content } as GeminiContent)
    : ({ ...content, role: 'model' } as GeminiContent)
}

/**
 * The model turn that produced one image of a generation. The Gemini adapter makes one call per
 * image and answers one content for n = 1 but an array of contents (one per successful call, in
 * order) for n > 1, and the generation service stores an array of those answers (one per
 * dispatched batch). Nested arrays are therefore read in order, and images are numbered across
 * calls the way the adapter numbers them: the non-thought `inlineData` parts with an image media
 * type (or none).
 */
export function modelTurnForImage(stored: unknown, imageIndex: number, where: Where): unknown {
  if (!Array.isArray(stored)) {
    return stored
  }
  const turns = stored.flat(Number.POSITIVE_INFINITY) as unknown[]
  let seen = 0
  for (const turn of turns) {
    const images = answerImageCount(turn)
    if (imageIndex < seen + images) {
      return turn
    }
    seen += images
  }
  throw new UnreplayableModelTurnError(
    where.stepIndex,
    where.generationId,
    `no stored turn produced image ${imageIndex + 1} (the turns hold ${seen} images)`,
  )
}

/** Images the adapter took from this turn as answers (thought drafts are not answers). */
function answerImageCount(turn: unknown): number {
  const parts = (turn as { parts?: unknown } | null)?.parts
  if (!Array.isArray(parts)) {
    return 0
  }
  return parts.filter((part) => {
    if (typeof part !== 'object' || part === null) {
      return false
    }
    const { thought, inlineData } = part as { thought?: unknown; inlineData?: unknown }
    if (thought === true || typeof inlineData !== 'object' || inlineData === null) {
      return false
    }
    const { mimeType } = inlineData as { mimeType?: unknown }
    return typeof mimeType !== 'string' || mimeType.startsWith('image/')
  }).length
}
