import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import type { AppDeps } from '../../deps.ts'
import { errorResponses } from '../../errors/responses.ts'
import {
  acceptedAnswer,
  acceptedResponse,
  PreferHeadersSchema,
  prefersRespondAsync,
} from '../../http/respond-async.ts'
import { afterAnswerWritten } from '../../http/response-headers.ts'
import type { App } from '../../http/route-types.ts'
import { SkillFailureSchema, SkillRequestSchema, SkillSuccessSchema } from '../../schemas/skill.ts'
import { skillEnvelope } from '../../services/generation/skill-envelope.ts'

/** Error responses of the skill: the same error object, wrapped as `{ ok: false, error }`. */
function skillErrors() {
  const plain = errorResponses(400, 404, 502, 503, 504)
  return Object.fromEntries(
    Object.entries(plain).map(([status, response]) => [
      status,
      {
        description: response.description,
        content: {
          'application/json': {
            schema: SkillFailureSchema,
            example: {
              ok: false,
              error: (response.content['application/json'].example as { error: unknown }).error,
            },
          },
        },
      },
    ]),
  ) as {
    [K in keyof typeof plain]: {
      description: string
      content: { 'application/json': { schema: typeof SkillFailureSchema; example: unknown } }
    }
  }
}

export const route = createRoute({
  method: 'post',
  path: '/v1/skills/image-generate',
  operationId: 'runImageGenerateSkill',
  tags: ['Skills'],
  summary: 'Generate one image for an agent',
  description:
    'The image-generate skill: one image, stored as an asset in /generated/images/YYYY-MM, answered ' +
    'as `{ ok, result, contentBlocks }` with an image ContentBlock that references the asset. No ' +
    'base64 anywhere. Failures answer `{ ok: false, error }` with the matching HTTP status.',
  request: {
    headers: PreferHeadersSchema,
    body: { required: true, content: { 'application/json': { schema: SkillRequestSchema } } },
  },
  responses: {
    200: {
      description: 'The stored image, as a result and an image ContentBlock',
      content: { 'application/json': { schema: SkillSuccessSchema } },
    },
    ...acceptedResponse,
    ...skillErrors(),
  },
})

export const access: RouteAccessRule = {
  scope: 'generate',
  rateLimit: 'images',
  idempotent: true,
  charged: true,
  envelope: 'skill',
}

export function register(app: App, deps: Pick<AppDeps, 'generation' | 'jobs'>) {
  app.use('/v1/skills/image-generate', async (c, next) => {
    c.set('errorEnvelope', 'skill')
    await next()
  })
  app.openapi(route, async (c) => {
    const started = performance.now()
    const input = c.req.valid('json')
    const request = {
      prompt: input.prompt,
      size: input.size,
      n: 1,
      ...(input.model ? { model: input.model } : {}),
      ...(input.sourceTaskId ? { sourceTaskId: input.sourceTaskId } : {}),
      ...(input.sourceAgentImUserId ? { sourceAgentImUserId: input.sourceAgentImUserId } : {}),
      ...(input.parentGenerationId ? { parentGenerationId: input.parentGenerationId } : {}),
      ...(input.parentAssetId ? { parentAssetId: input.parentAssetId } : {}),
      ...(input.webhookUrl ? { webhookUrl: input.webhookUrl } : {}),
      ...(input.inputImages
        ? {
            inputs: input.inputImages.map((image) => ({
              assetId: image.assetId,
              role: image.role,
              ...(image.displayName ? { displayName: image.displayName } : {}),
            })),
          }
        : {}),
      params: {
        parentGenerationId: 'parentGenerationId',
        parentAssetId: 'parentAssetId',
        inputs: 'inputImages',
      },
      operation: 'skill' as const,
    }
    if (prefersRespondAsync(c.req.valid('header').prefer)) {
      // The record carries the skill's envelope (`skillResult`) once the job has succeeded.
      const prepared = await deps.generation.prepareRecorded(c.get('workspaceId'), request)
      return acceptedAnswer(c, await deps.jobs.accept(prepared, c.get('charge')))
    }
    const outcome = await deps.generation.generate(c.get('workspaceId'), request, c.get('charge'))
    const image = outcome.images[0]
    if (!image) {
      throw new Error('a successful generation returned no image')
    }
    const { asset } = image
    if (outcome.releaseBuffers) {
      afterAnswerWritten(c, outcome.releaseBuffers)
    }
    const cost = outcome.generation.costCents
    const promptPreview = input.prompt.length > 60 ? `${input.prompt.slice(0, 60)}…` : input.prompt
    c.get('log').info(
      `[image-generate] generated assetId=${asset.id} model=${outcome.model.id} size=${outcome.plan.size} sha=${asset.contentHash.slice(0, 12)} cost=${cost}c prompt=${JSON.stringify(promptPreview)}`,
    )
    // Everything imagegate did on top of the provider (this small answer's JSON aside).
    const overheadMs = performance.now() - started - outcome.upstreamMs
    c.header('x-imagegate-overhead-ms', String(Math.round(overheadMs * 100) / 100))
    return c.json(skillEnvelope(outcome.generation, asset), 200)
  })
}
