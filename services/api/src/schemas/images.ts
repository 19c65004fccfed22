import { z } from '@hono/zod-openapi'
import { SIZES } from '../catalog/model-entry.ts'
import { AssetIdSchema, MediaTypeSchema, Sha256Schema } from './asset.ts'
import { RequestWebhookUrlSchema } from './webhooks.ts'

export const GenerationIdSchema = z
  .string()
  .regex(/^gen_[0-9A-Z]{26}$/)
  .openapi({ example: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB' })

export const InputRoleSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/)
  .openapi({
    description:
      'What the image is for: edit_target, reference, logo, face, character, style, or another ' +
      'plain word; the prompt tells the model',
    example: 'logo',
  })

export const InputImageSchema = z
  .strictObject({
    asset_id: AssetIdSchema,
    role: InputRoleSchema.default('reference'),
    display_name: z
      .string()
      .min(1)
      .max(80)
      .optional()
      .openapi({ description: "Named in the prompt, e.g. the logo 'Acme'", example: 'Acme' }),
  })
  .openapi('InputImage')

const PARTIAL_IMAGES_DESCRIPTION =
  'Partial images to stream before the completed one (0–3; with `stream`). A model that ' +
  'streams only the completed image sends none; the model may send fewer when it finishes early'

const PartialImagesSchema = z
  .number()
  .int()
  .min(0)
  .max(3)
  .openapi({ description: PARTIAL_IMAGES_DESCRIPTION })

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
    parent_generation_id: GenerationIdSchema.optional().openapi({
      description:
        'Refine the first image of this earlier generation. Gemini models replay the whole ' +
        'conversation (thought signatures included); other models edit the parent image. ' +
        "Without `model`, the parent's model is used.",
    }),
    parent_asset_id: AssetIdSchema.optional().openapi({
      description: 'Refine this image of an earlier generation (instead of parent_generation_id)',
    }),
    input_images: z.array(InputImageSchema).max(16).optional().openapi({
      description:
        'Stored assets sent to the model as references, logos, faces, characters… (image-to-image)',
    }),
    webhook_url: RequestWebhookUrlSchema.optional(),
    stream: z
      .boolean()
      .optional()
      .openapi({
        description:
          'Answer Server-Sent Events as OpenAI does (`image_generation.partial_image`, then ' +
          "`image_generation.completed`), for models whose `capabilities.streaming` isn't `none`; n must be 1",
      }),
    partial_images: PartialImagesSchema.optional(),
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

const tokenCount = (description: string) => z.number().int().min(0).openapi({ description })

export const ImageTokensDetailsSchema = z
  .strictObject({
    image_tokens: tokenCount('Image tokens'),
    text_tokens: tokenCount('Text tokens'),
  })
  .openapi('ImageTokensDetails')

export const ImageUsageSchema = z
  .strictObject({
    input_tokens: tokenCount('Tokens of the prompt and input images').optional(),
    input_tokens_details: ImageTokensDetailsSchema.optional().openapi({
      description: 'input_tokens by kind',
    }),
    output_tokens: tokenCount('Tokens generated').optional(),
    output_tokens_details: ImageTokensDetailsSchema.optional().openapi({
      description: 'output_tokens by kind',
    }),
    total_tokens: tokenCount('input_tokens + output_tokens').optional(),
  })
  .openapi('ImageUsage', {
    description:
      'Tokens as the provider reported them (OpenAI GPT Image, Gemini); a count it did not ' +
      'report is absent. When the images came from several provider calls, each count is their ' +
      'sum, present only when every call reported it',
  })

export const ImageGenerationResponseSchema = z
  .strictObject({
    created: z.number().int().openapi({ description: 'Unix seconds' }),
    data: z.array(ImageDataSchema),
    size: z
      .string()
      .regex(/^[1-9]\d{0,4}x[1-9]\d{0,4}$/)
      .optional()
      .openapi({
        description:
          'Width x height of the images returned, when they all have one size (as the images ' +
          "say; the provider's report where they cannot tell)",
        example: '1024x1024',
      }),
    quality: z.enum(['low', 'medium', 'high']).optional().openapi({
      description: 'The quality the provider reports it generated at, when it reports one',
    }),
    background: z.enum(['transparent', 'opaque']).optional().openapi({
      description: 'The background the provider reports it generated, when it reports one',
    }),
    output_format: z.enum(['png', 'webp', 'jpeg']).optional().openapi({
      description: 'The format of the images returned, when they all have one of these',
    }),
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
      size: '1024x1024',
      output_format: 'png',
      generation_id: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB',
      model: 'local-sketch',
      cost: 0,
      warnings: [],
    },
  })

const binary = (description: string) =>
  z.string().openapi({ type: 'string', format: 'binary', description })

/**
 * POST /v1/images/edits as multipart/form-data: OpenAI's fields (the official SDKs send them
 * unchanged) plus imagegate's references to stored assets and earlier generations. Text fields
 * arrive as strings; numbers are read from their text.
 */
export const ImageEditFieldsSchema = z.strictObject({
  prompt: z.string().min(1).max(32_000),
  model: z.string().min(1).max(200).optional(),
  n: z.coerce.number().int().min(1).max(10).default(1),
  size: SizeParamSchema.default('auto'),
  quality: z.enum(['auto', 'low', 'medium', 'high', 'standard', 'hd']).optional(),
  response_format: z.enum(['b64_json', 'url']).default('b64_json'),
  output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
  output_compression: z.coerce.number().int().min(0).max(100).optional(),
  background: z.enum(['transparent', 'opaque', 'auto']).optional(),
  input_fidelity: z.enum(['high', 'low']).optional(),
  user: z.string().max(256).optional(),
  seed: z.coerce.number().int().min(0).max(2_147_483_647).optional(),
  webhook_url: RequestWebhookUrlSchema.optional(),
  stream: z
    .enum(['true', 'false'])
    .optional()
    .openapi({
      description:
        'true: answer Server-Sent Events as OpenAI does (`image_edit.partial_image`, then ' +
        "`image_edit.completed`), for models whose `capabilities.streaming` isn't `none`; n must be 1",
    }),
  partial_images: z.coerce
    .number()
    .int()
    .min(0)
    .max(3)
    .optional()
    .openapi({ description: PARTIAL_IMAGES_DESCRIPTION }),
  image_asset_ids: z
    .string()
    .regex(/^ast_[0-9A-Z]{26}(,ast_[0-9A-Z]{26}){0,15}$/)
    .optional()
    .openapi({
      description: 'Stored assets to edit or use, comma-separated, after any uploaded images',
      example: 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA',
    }),
  image_labels: z
    .string()
    .max(16_000)
    .optional()
    .openapi({
      description:
        'JSON array, one entry per image in order (uploads first, then image_asset_ids): ' +
        '{"role": "logo", "display_name": "Acme"}. Default role: edit_target (images to edit or ' +
        'combine, as in OpenAI edits); reference when a parent is refined',
      example: '[{"role":"edit_target"},{"role":"logo","display_name":"Acme"}]',
    }),
  mask_asset_id: AssetIdSchema.optional().openapi({
    description: 'A stored PNG with alpha to use as the mask instead of uploading one',
  }),
  parent_generation_id: GenerationIdSchema.optional().openapi({
    description:
      "Refine this generation's first image (its image is the edit_target; Gemini replays the conversation)",
  }),
  parent_asset_id: AssetIdSchema.optional().openapi({
    description: 'Refine this image of an earlier generation',
  }),
})

export type ImageEditFields = z.infer<typeof ImageEditFieldsSchema>

export const ImageLabelsSchema = z
  .array(
    z.strictObject({
      role: InputRoleSchema.optional(),
      display_name: z.string().min(1).max(80).optional(),
    }),
  )
  .max(17)

/** The documented form: the fields above plus the files. */
export const ImageEditFormSchema = ImageEditFieldsSchema.extend({
  image: binary(
    'The image to edit (PNG, JPEG, WebP or GIF). Several images: repeat `image[]` instead',
  ).optional(),
  'image[]': z
    .array(binary('An input image'))
    .max(16)
    .optional()
    .openapi({ description: 'Several input images (GPT Image models take up to 16)' }),
  mask: binary(
    'A PNG with an alpha channel, the size of the first image: transparent pixels are edited',
  ).optional(),
}).openapi('ImageEditForm')
