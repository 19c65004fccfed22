import { createHash } from 'node:crypto'
import type { GenerateImagesRequest } from '../types.ts'
import { MAX_SIDE, MIN_SIDE, type SketchFormat } from './render-sketch.ts'

/**
 * What the local renderer makes of a generate request: the settings it can honour, resolved,
 * and a warning for every one it cannot (never silently dropped). Warnings name parameters by
 * their OpenAI wire names, which is what callers sent.
 */

export type LocalRenderPlan = {
  width: number
  height: number
  seed: number
  format: SketchFormat
  /** JPEG / WebP quality; undefined for PNG or when no compression was asked for. */
  quality: number | undefined
  /** The input image the picture is derived from, when the request has any. */
  input?: { bytes: Uint8Array; position: number }
  warnings: string[]
}

export const DEFAULT_SIZE = { width: 1024, height: 1024 } as const

/** The seed when the caller gave none: from the prompt, so the same prompt renders the same. */
export function seedFromPrompt(prompt: string): number {
  return createHash('sha256').update(prompt, 'utf8').digest().readUInt32BE(0)
}

function clampSide(value: number): number {
  return Math.min(MAX_SIDE, Math.max(MIN_SIDE, Math.round(value)))
}

function resolveSize(request: GenerateImagesRequest, warnings: string[]) {
  if (request.size === undefined) {
    return { ...DEFAULT_SIZE }
  }
  const { width, height } = request.size
  const resolved = { width: clampSide(width), height: clampSide(height) }
  if (resolved.width !== width || resolved.height !== height) {
    warnings.push(
      `local-sketch renders sides of ${MIN_SIDE}..${MAX_SIDE} px; size ${width}x${height} became ${resolved.width}x${resolved.height}`,
    )
  }
  return resolved
}

function resolveQuality(
  request: GenerateImagesRequest,
  format: SketchFormat,
  warnings: string[],
): number | undefined {
  const compression = request.outputCompression
  if (compression === undefined) {
    return undefined
  }
  if (format === 'png') {
    warnings.push(`local-sketch ignores output_compression=${compression} for png (lossless)`)
    return undefined
  }
  const clamped = Math.min(100, Math.max(0, Math.round(compression)))
  if (clamped !== compression) {
    warnings.push(`local-sketch clamped output_compression=${compression} to ${clamped}`)
  }
  // output_compression is how much to compress; encoder quality runs the other way.
  return Math.max(1, 100 - clamped)
}

function unsupportedSettings(request: GenerateImagesRequest): string[] {
  const warnings: string[] = []
  if (request.quality !== undefined && request.quality !== 'auto') {
    warnings.push(`local-sketch ignores quality=${request.quality}`)
  }
  if (request.style !== undefined) {
    warnings.push(`local-sketch ignores style=${request.style}`)
  }
  if (request.background === 'transparent') {
    warnings.push('local-sketch ignores background=transparent (renders opaque)')
  }
  if (request.moderation !== undefined) {
    warnings.push(`local-sketch ignores moderation=${request.moderation} (it moderates nothing)`)
  }
  if (request.grounding === true) {
    warnings.push('local-sketch ignores grounding=true (no search grounding)')
  }
  if (request.safetySettings !== undefined && request.safetySettings.length > 0) {
    warnings.push('local-sketch ignores safety_settings (no safety filtering)')
  }
  // `user` is an end-user id for upstream abuse tracking, not a rendering setting: nothing
  // to honour and nothing lost, so no warning.
  return warnings
}

/**
 * The one input the sketch is derived from: the first `edit_target`, else the first input. The
 * renderer repaints the whole picture from it, so a mask (which would keep the opaque areas) is
 * not honoured, and any other input is not looked at; each is said in a warning.
 */
function chooseInput(request: GenerateImagesRequest, warnings: string[]): LocalRenderPlan['input'] {
  const inputs = request.inputs ?? []
  const target = inputs.findIndex((input) => input.role === 'edit_target')
  const index = target === -1 ? 0 : target
  const chosen = inputs[index]
  if (chosen === undefined) {
    if (request.mask !== undefined) {
      warnings.push('local-sketch ignores the mask: the request has no input image to edit')
    }
    return undefined
  }
  const position = index + 1
  if (inputs.length > 1) {
    const others = inputs.length - 1
    warnings.push(
      `local-sketch derives its picture from input image ${position} only; the other ${others} ${others === 1 ? 'was' : 'were'} not used`,
    )
  }
  if (request.mask !== undefined) {
    warnings.push(
      'local-sketch ignores the mask: it repaints the whole image, the masked areas included',
    )
  }
  return { bytes: chosen.bytes, position }
}

function notRenderingSettings(request: GenerateImagesRequest): string[] {
  const warnings: string[] = []
  if (request.inputFidelity !== undefined) {
    warnings.push(`local-sketch ignores input_fidelity=${request.inputFidelity}`)
  }
  if (request.chain !== undefined && request.chain.length > 0) {
    warnings.push(
      `local-sketch has no conversation; the ${request.chain.length} earlier turn(s) were not used`,
    )
  }
  if (request.strictContent) {
    warnings.push('local-sketch ignores the strict content rules (it draws the prompt as text)')
  }
  return warnings
}

export function planLocalRender(request: GenerateImagesRequest): LocalRenderPlan {
  const warnings: string[] = []
  const { width, height } = resolveSize(request, warnings)
  const format = request.outputFormat ?? 'png'
  const quality = resolveQuality(request, format, warnings)
  warnings.push(...unsupportedSettings(request))
  const input = chooseInput(request, warnings)
  warnings.push(...notRenderingSettings(request))
  const seed = request.seed ?? seedFromPrompt(request.prompt)
  const plan: LocalRenderPlan = { width, height, seed, format, quality, warnings }
  if (input !== undefined) {
    plan.input = input
  }
  return plan
}
