import { z } from '@hono/zod-openapi'
import { STREAMING_MODES } from '../catalog/model-entry.ts'
import { pageOf } from './pagination.ts'
import { SkillSuccessSchema } from './skill.ts'

export const AttemptSchema = z
  .strictObject({
    attempt: z.number().int().min(1),
    startedAt: z.string(),
    durationMs: z.number(),
    outcome: z
      .string()
      .openapi({ description: 'success, or the failure kind (rate_limited, unavailable, …)' }),
    status: z.number().int().optional(),
    retryAfterMs: z.number().optional(),
    waitedMs: z.number().optional(),
  })
  .openapi('GenerationAttempt')

export const GenerationSchema = z
  .strictObject({
    id: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).openapi({
      description:
        'queued → running → succeeded | failed, or cancelled. Only an asynchronous generation (`Prefer: respond-async`) is ever queued or cancelled',
    }),
    operation: z.enum(['generate', 'edit', 'skill']),
    prompt: z.string(),
    promptHash: z.string(),
    model: z.string(),
    provider: z.string(),
    size: z.string().optional(),
    seed: z.number().int().optional(),
    n: z.number().int(),
    parameters: z.record(z.string(), z.unknown()),
    assetIds: z.array(z.string()),
    inputAssetIds: z.array(z.string()),
    inputs: z
      .array(
        z.strictObject({
          assetId: z.string(),
          role: z.string(),
          displayName: z.string().optional(),
        }),
      )
      .openapi({
        description:
          'The input images in the order they were sent (a refined image as edit_target, the mask last)',
      }),
    attempts: z.array(AttemptSchema),
    warnings: z.array(z.string()),
    usage: z
      .record(z.string(), z.number())
      .optional()
      .openapi({
        description:
          'Tokens the provider reported, summed over the calls the images came from: ' +
          'inputTokens, outputTokens, totalTokens, and their parts inputTextTokens, ' +
          'inputImageTokens, outputTextTokens, outputImageTokens; a count not reported by ' +
          'every call is absent',
        example: { inputTokens: 14, inputTextTokens: 14, inputImageTokens: 0, totalTokens: 1070 },
      }),
    cost: z.number().openapi({ description: 'US cents' }),
    error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
    timings: z.record(z.string(), z.number()).optional(),
    parentGenerationId: z.string().optional(),
    parentAssetId: z
      .string()
      .optional()
      .openapi({ description: 'The image of the parent generation that was refined' }),
    rootGenerationId: z.string(),
    sourceTaskId: z.string().optional(),
    createdAt: z.string(),
    finishedAt: z.string().optional(),
    skillResult: SkillSuccessSchema.optional().openapi({
      description:
        'A succeeded skill generation (GET of one record): the answer POST ' +
        '/v1/skills/image-generate gives, for a skill run as a job',
    }),
  })
  .openapi('Generation', {
    example: {
      id: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB',
      status: 'succeeded',
      operation: 'generate',
      prompt: 'A lighthouse at dusk, watercolor',
      promptHash: '9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab',
      model: 'local-sketch',
      provider: 'local',
      size: '1024x1024',
      n: 1,
      parameters: { response_format: 'b64_json' },
      assetIds: ['ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA'],
      inputAssetIds: [],
      inputs: [],
      attempts: [
        { attempt: 1, startedAt: '2026-11-21T10:00:00.000Z', durationMs: 95.2, outcome: 'success' },
      ],
      warnings: [],
      cost: 0,
      timings: { upstreamMs: 95.2, totalMs: 104.8 },
      rootGenerationId: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB',
      createdAt: '2026-11-21T10:00:00.000Z',
      finishedAt: '2026-11-21T10:00:00.105Z',
    },
  })

export const GenerationPageSchema = pageOf(GenerationSchema, 'GenerationPage')

export const ModelSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('model'),
    created: z.number().int(),
    owned_by: z.string(),
    provider: z.enum(['local', 'openai', 'gemini']),
    available: z
      .boolean()
      .openapi({ description: 'Whether this gateway is configured to serve it' }),
    description: z.string(),
    capabilities: z.strictObject({
      sizes: z.array(z.string()),
      default_size: z.string(),
      max_n: z.number().int(),
      parameters: z.array(z.string()),
      qualities: z.array(z.string()),
      edits: z.boolean().openapi({
        description: 'Takes input images: /v1/images/edits, input_images and refinements',
      }),
      max_input_images: z.number().int(),
      max_turns: z
        .number()
        .int()
        .openapi({ description: 'Longest refinement chain: earlier steps plus the new request' }),
      streaming: z.enum(STREAMING_MODES).openapi({
        description:
          'How `stream: true` is answered: `partial_images` streams partial images as the model ' +
          'makes them, then the completed image; `completed_only` streams the completed image as ' +
          'the one event; `none` refuses streaming (400 unsupported_parameter)',
      }),
    }),
    pricing: z.strictObject({
      unit: z.literal('usd_cents_per_image'),
      per_image: z.record(z.string(), z.record(z.string(), z.number())),
    }),
  })
  .openapi('Model')

export const ModelListSchema = z
  .strictObject({ object: z.literal('list'), data: z.array(ModelSchema) })
  .openapi('ModelList')

export const GENERATION_ID_EXAMPLE = 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB'

/** The `{id}` of the routes under /v1/generations/{id}. */
export const GenerationIdParamSchema = z.object({
  id: z
    .string()
    .max(64)
    .openapi({
      param: { name: 'id', in: 'path', example: GENERATION_ID_EXAMPLE },
      example: GENERATION_ID_EXAMPLE,
    }),
})
