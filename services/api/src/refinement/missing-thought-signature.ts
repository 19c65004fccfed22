import { AppError } from '../errors/app-error.ts'
import { UpstreamCallFailed } from '../providers/resilience/execute.ts'
import { UpstreamFailure } from '../providers/types.ts'

/**
 * Gemini's 400 for a replayed turn without its thoughtSignature, recognised in the wordings seen
 * in the wild:
 * - AI Studio, image and text parts: "Image part is missing a thought_signature in content
 *   position 2, part position 1." / "Text part is missing a thought_signature in content position
 *   X, part position Y"
 * - Function calls: "Function call is missing a thought_signature in functionCall parts. …
 *   Additional data, function call `default_api:x` , position 2."
 * - Vertex: "Unable to submit request because function call `x` in the 2. content block is
 *   missing a `thought_signature`."
 * Content positions count from 1: the reported case was a three-content conversation
 * (user, model, user) failing at "content position 2", the model turn.
 */

export type MissingThoughtSignature = {
  partKind: 'image' | 'text' | 'function_call' | 'unknown'
  /** 1-based index into `contents`, when Gemini said. */
  contentPosition?: number
  /** As Gemini reports it (its base is undocumented). */
  partPosition?: number
  functionName?: string
}

const POSITIONED =
  /\b(image|text|[a-z ]+?) part is missing an? `?thought_?signature`? in content position (\d+), part position (\d+)/i
const FUNCTION_CALL =
  /function call is missing an? `?thought_?signature`? in functioncall parts\b(?:[\s\S]*?function call `?([^`,\s]+)`?\s*,\s*position (\d+))?/i
const VERTEX_FUNCTION_CALL =
  /function call `([^`]+)` in the (\d+)\. content block is missing an? `?thought_?signature`?/i
const ANY = /missing an? `?thought_?signature`?/i

/** Reads a Gemini error message; undefined when it is not about a missing thought signature. */
export function recogniseMissingThoughtSignature(
  message: string,
): MissingThoughtSignature | undefined {
  const positioned = POSITIONED.exec(message)
  if (positioned) {
    const kind = positioned[1]?.toLowerCase()
    return {
      partKind: kind === 'image' || kind === 'text' ? kind : 'unknown',
      contentPosition: Number(positioned[2]),
      partPosition: Number(positioned[3]),
    }
  }
  const vertex = VERTEX_FUNCTION_CALL.exec(message)
  if (vertex) {
    return {
      partKind: 'function_call',
      functionName: vertex[1] as string,
      contentPosition: Number(vertex[2]),
    }
  }
  const functionCall = FUNCTION_CALL.exec(message)
  if (functionCall) {
    const found: MissingThoughtSignature = { partKind: 'function_call' }
    if (functionCall[1] !== undefined) {
      found.functionName = functionCall[1]
      found.contentPosition = Number(functionCall[2])
    }
    return found
  }
  return ANY.test(message) ? { partKind: 'unknown' } : undefined
}

/** Which step of the chain a content position falls on, for the layout gemini-history.ts builds. */
export function stepAtContentPosition(
  contentPosition: number,
  generationIds: readonly (string | undefined)[],
): { stepIndex: number; turn: 'user' | 'model'; generationId: string | undefined } | undefined {
  const index = contentPosition - 1
  if (!Number.isInteger(index) || index < 0 || index >= 2 * generationIds.length) {
    return undefined
  }
  const stepIndex = Math.floor(index / 2)
  return {
    stepIndex,
    turn: index % 2 === 1 ? 'model' : 'user',
    generationId: generationIds[stepIndex],
  }
}

const PART_LABEL: Record<MissingThoughtSignature['partKind'], string> = {
  image: 'an image part',
  text: 'a text part',
  function_call: 'a function-call part',
  unknown: 'a part',
}

/**
 * The upstream_error to answer when Gemini refused a refinement for a missing thoughtSignature;
 * undefined for any other failure (the generic mapping applies). `chain` is the generation ids
 * of the replayed steps, root first, so the message can name the step.
 */
export function missingThoughtSignatureError(
  thrown: unknown,
  chain: readonly (string | undefined)[],
): AppError | undefined {
  const failure = thrown instanceof UpstreamCallFailed ? thrown.failure : thrown
  if (!(failure instanceof UpstreamFailure) || failure.provider !== 'gemini') {
    return undefined
  }
  if (failure.status !== undefined && failure.status !== 400) {
    return undefined
  }
  const upstreamMessage = failure.reason ?? failure.message
  const found = recogniseMissingThoughtSignature(upstreamMessage)
  if (!found) {
    return undefined
  }
  return new AppError('upstream_error', explain(found, chain), {
    details: {
      provider: 'gemini',
      ...(failure.status === undefined ? {} : { upstreamStatus: failure.status }),
      reason: 'missing_thought_signature',
    },
    shouldRetry: false,
    cause: thrown,
  })
}

function explain(found: MissingThoughtSignature, chain: readonly (string | undefined)[]): string {
  const part = PART_LABEL[found.partKind]
  const where = [
    found.contentPosition === undefined ? undefined : `content position ${found.contentPosition}`,
    found.partPosition === undefined ? undefined : `part position ${found.partPosition}`,
  ]
    .filter((item) => item !== undefined)
    .join(', ')
  const at = where ? ` (Gemini: ${where})` : ''
  const step =
    found.contentPosition === undefined
      ? undefined
      : stepAtContentPosition(found.contentPosition, chain)
  const subject =
    step?.turn === 'model'
      ? `the replayed model turn of step ${step.stepIndex + 1} of ${chain.length}${step.generationId ? ` (generation ${step.generationId})` : ''}`
      : 'a replayed model turn'
  return (
    `Gemini refused the refinement because ${subject} has ${part} without a thoughtSignature${at}. ` +
    'imagegate replays stored model turns exactly as Gemini sent them, so the stored turn itself has no signature ' +
    '(it may come from a model that does not sign its answers). ' +
    'Start a new chain from that image by passing it as an input image instead of a parent'
  )
}
