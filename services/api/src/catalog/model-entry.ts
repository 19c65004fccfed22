import { z } from 'zod'

export const SIZES = [
  '256x256',
  '512x512',
  '1024x1024',
  '1536x1024',
  '1024x1536',
  '1792x1024',
  '1024x1792',
] as const

export const PARAMETERS = [
  'quality',
  'style',
  'background',
  'moderation',
  'output_format',
  'output_compression',
  'user',
  'seed',
  'grounding',
] as const

export type Parameter = (typeof PARAMETERS)[number]

export const STREAMING_MODES = ['partial_images', 'completed_only', 'none'] as const

const SizeSchema = z.enum(SIZES)

/** One model of the catalog. The built-in list is data (default-models.json), not code. */
export const ModelEntrySchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
    provider: z.enum(['local', 'openai', 'gemini']),
    upstreamModel: z.string().min(1),
    description: z.string().default(''),
    sizes: z.array(SizeSchema).min(1),
    defaultSize: SizeSchema,
    maxN: z.number().int().min(1).max(10),
    /** Images one upstream call can return; above it the gateway fans out. */
    maxNPerCall: z.number().int().min(1).max(10),
    parameters: z.array(z.enum(PARAMETERS)),
    qualities: z.array(z.string()).default([]),
    defaultQuality: z.string().optional(),
    /** US cents per image, by size then quality (`default` when quality does not change the price). */
    pricePerImage: z.partialRecord(SizeSchema, z.record(z.string(), z.number().min(0))),
    timeoutMs: z.number().int().min(1000).max(600_000).default(180_000),
    maxPromptChars: z.number().int().min(1).default(32_000),
    safetySettings: z
      .array(z.strictObject({ category: z.string(), threshold: z.string() }))
      .optional(),
    /** Whether the model takes input images (edits, image-to-image, refinements). */
    edits: z.boolean().default(true),
    /** Input images one request may carry (uploads, asset ids and a refined parent's image). */
    maxInputImages: z.number().int().min(0).max(16).default(16),
    /** Turns a refinement chain may hold: the earlier steps plus the new request. */
    maxTurns: z.number().int().min(1).max(50).default(10),
    /**
     * Prefix first turns with the reference document's strict content rules. Unset: on for
     * Gemini models (as the reference client does), off for the others.
     */
    strictContent: z.boolean().optional(),
    /**
     * How `stream: true` is answered: `partial_images` sends the provider's partial images as
     * they come, then the completed image; `completed_only` sends the completed image as the one
     * event (a provider with no partials); `none` refuses it (400 unsupported_parameter).
     */
    streaming: z.enum(STREAMING_MODES).default('none'),
  })
  .refine((model) => model.sizes.every((size) => model.pricePerImage[size] !== undefined), {
    message: 'every size in `sizes` needs a price in `pricePerImage`',
    path: ['pricePerImage'],
  })
  .refine((model) => model.sizes.includes(model.defaultSize), {
    message: '`defaultSize` must be one of `sizes`',
    path: ['defaultSize'],
  })

export type ModelEntry = z.output<typeof ModelEntrySchema>

/** The catalog's strictContent, or its default: on for Gemini models. */
export function usesStrictContent(model: ModelEntry): boolean {
  return model.strictContent ?? model.provider === 'gemini'
}
export type Size = z.infer<typeof SizeSchema>

export const CatalogFileSchema = z.strictObject({ models: z.array(ModelEntrySchema).min(1) })
