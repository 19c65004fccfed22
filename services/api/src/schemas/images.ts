import { z } from '@hono/zod-openapi'
import { SIZES } from '../catalog/model-entry.ts'
import { MediaTypeSchema, Sha256Schema } from './asset.ts'

export const SizeParamSchema = z.enum(['auto', ...SIZES]).openapi({
  description: 'Pixel size; mapped to the nearest size the model supports, with a warning',
})

/** POST /v1/images/generations — OpenAI's field names, plus imagegate's additive ones. */
export const ImageGenerationRequestSchema = z
  .object({
    prompt: z.string().min(1).max(32_000),
    model: z.string().min(1).max(200).optional(),
    n: z.number().int().min(1).max(10).default(1),
    size: SizeParamSchema.default('auto'),
    quality: z.enum(['auto', 'low', 'medium', 'high', 'standard', 'hd']).optional(),
    response_format: z.enum(['b64_json', 'url']).default('b64_json'),
    output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
    output_compression: z.number().int().min(0).max(100).optional(),
    background: z.enum(['transparent', 'opaque', 'auto']).optional(),
    moderation: z.enum(['auto', 'low']).optional(),
    style: z.enum(['vivid', 'natural']).optional(),
    user: z.string().max(256).optional(),
    seed: z.number().int().min(0).max(2_147_483_647).optional(),
    grounding: z.boolean().optional().openapi({ description: 'Gemini: Google Search grounding' }),
  })
  .openapi('ImageGenerationRequest', {
    example: {
      prompt: 'A lighthouse at dusk, watercolor',
      model: 'local-sketch',
      n: 1,
      size: '1024x1024',
    },
  })

export type ImageGenerationRequest = z.infer<typeof ImageGenerationRequestSchema>

export const ImageDataSchema = z
  .strictObject({
    b64_json: z.string().optional(),
    url: z.string().optional(),
    revised_prompt: z.string().optional(),
    asset_id: z.string(),
    content_hash: Sha256Schema,
    media_type: MediaTypeSchema,
    width: z.number().int(),
    height: z.number().int(),
  })
  .openapi('ImageData')

export const ImageUsageSchema = z
  .strictObject({
    input_tokens: z.number().int().optional(),
    output_tokens: z.number().int().optional(),
    total_tokens: z.number().int().optional(),
  })
  .openapi('ImageUsage')

export const ImageGenerationResponseSchema = z
  .strictObject({
    created: z.number().int().openapi({ description: 'Unix seconds' }),
    data: z.array(ImageDataSchema),
    usage: ImageUsageSchema.optional(),
    generation_id: z.string(),
    model: z.string(),
    cost: z.number().openapi({ description: 'US cents, from the images actually returned' }),
    warnings: z.array(z.string()),
  })
  .openapi('ImageGenerationResponse', {
    example: {
      created: 1795255200,
      data: [
        {
          url: 'http://127.0.0.1:8787/v1/assets/ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA/content',
          asset_id: 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA',
          content_hash: 'f2ca1bb6c7e907d06dafe4687e579fce76b37e4e93b7605022da52e6ccc26fd2',
          media_type: 'image/png',
          width: 1024,
          height: 1024,
        },
      ],
      generation_id: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB',
      model: 'local-sketch',
      cost: 0,
      warnings: [],
    },
  })
