import { z } from '@hono/zod-openapi'
import { AssetIdSchema, Sha256Schema } from './asset.ts'
import { ContentBlockSchema } from './content-block.ts'
import { ErrorObjectSchema } from './error.ts'
import { GenerationIdSchema, InputRoleSchema } from './images.ts'
import { RequestWebhookUrlSchema } from './webhooks.ts'

export const SKILL_SIZES = [
  '1024x1024',
  '1536x1024',
  '1024x1536',
  '1792x1024',
  '1024x1792',
] as const

export const SkillRequestSchema = z
  .object({
    prompt: z.string().min(1).max(4000),
    size: z.enum(SKILL_SIZES).default('1024x1024'),
    n: z.literal(1).default(1),
    model: z.string().min(1).max(200).optional(),
    sourceTaskId: z.string().min(1).max(200).optional(),
    sourceAgentImUserId: z.string().min(1).max(200).optional(),
    parentGenerationId: GenerationIdSchema.optional().openapi({
      description:
        "Refine that generation's image; without `model`, the parent's model continues the chain",
    }),
    parentAssetId: AssetIdSchema.optional().openapi({
      description: 'Refine this image (an asset produced by a generation)',
    }),
    inputImages: z
      .array(
        z.strictObject({
          assetId: AssetIdSchema,
          role: InputRoleSchema.default('reference'),
          displayName: z.string().min(1).max(80).optional(),
        }),
      )
      .max(16)
      .optional()
      .openapi({ description: 'Stored assets sent as references, logos, faces, characters…' }),
    webhookUrl: RequestWebhookUrlSchema.optional(),
  })
  .openapi('ImageGenerateSkillRequest', {
    example: { prompt: 'A lighthouse at dusk, watercolor', size: '1024x1024' },
  })

export const SkillResultSchema = z
  .strictObject({
    assetId: AssetIdSchema,
    contentHash: Sha256Schema,
    sizeBytes: z.number().int(),
    cdnUrl: z.string(),
    model: z.string(),
    size: z.string(),
    promptHash: Sha256Schema,
    generationId: z.string(),
    cost: z.number().openapi({ description: 'US cents' }),
  })
  .openapi('ImageGenerateSkillResult')

export const SkillSuccessSchema = z
  .strictObject({
    ok: z.literal(true),
    result: SkillResultSchema,
    contentBlocks: z.array(ContentBlockSchema),
  })
  .openapi('ImageGenerateSkillSuccess', {
    example: {
      ok: true,
      result: {
        assetId: 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA',
        contentHash: 'f2ca1bb6c7e907d06dafe4687e579fce76b37e4e93b7605022da52e6ccc26fd2',
        sizeBytes: 48213,
        cdnUrl: '/v1/assets/ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA/content',
        model: 'local-sketch',
        size: '1024x1024',
        promptHash: '9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab',
        generationId: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB',
        cost: 0,
      },
      contentBlocks: [
        {
          kind: 'image',
          assetId: 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA',
          mediaType: 'image/png',
          alt: 'A lighthouse at dusk, watercolor',
        },
      ],
    },
  })

export const SkillFailureSchema = z
  .strictObject({ ok: z.literal(false), error: ErrorObjectSchema })
  .openapi('ImageGenerateSkillFailure')
