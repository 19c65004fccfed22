import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import type { AppDeps } from '../../deps.ts'
import { NotFoundError } from '../../errors/app-error.ts'
import { errorResponses } from '../../errors/responses.ts'
import { POLL_AFTER_SECONDS } from '../../http/respond-async.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { GenerationIdParamSchema, GenerationSchema } from '../../schemas/generation.ts'
import { toGenerationDto } from '../../services/generation/dto.ts'
import { skillEnvelope } from '../../services/generation/skill-envelope.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/generations/{id}',
  operationId: 'getGeneration',
  tags: ['Generations'],
  summary: 'Get a generation record',
  description:
    'What was asked, every upstream attempt and its outcome, timings, cost and the assets produced.',
  request: {
    params: GenerationIdParamSchema,
  },
  responses: {
    200: {
      description:
        'The record. While it is `queued` or `running` (an asynchronous generation), ' +
        '`Retry-After` says when to poll again',
      headers: {
        'retry-after': {
          description: 'Seconds before the next poll, while the generation is unfinished',
          schema: { type: 'string' as const },
        },
      },
      content: { 'application/json': { schema: GenerationSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'read', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'generationsRepo' | 'assets'> =
  (deps) => async (c) => {
    const id = c.req.valid('param').id
    const row = await deps.generationsRepo.get(c.get('workspaceId'), id)
    if (!row) {
      throw new NotFoundError('generation', id)
    }
    const running = row.status === 'queued' || row.status === 'running'
    return c.json(
      toGenerationDto(row, await skillResultOf(deps, row)),
      200,
      running ? { 'retry-after': String(POLL_AFTER_SECONDS) } : {},
    )
  }

/** The skill's envelope of a succeeded skill generation whose image is still stored. */
async function skillResultOf(deps: Pick<AppDeps, 'assets'>, row: GenerationRow) {
  const [assetId] = row.assetIds
  if (row.operation !== 'skill' || row.status !== 'succeeded' || !assetId) {
    return undefined
  }
  try {
    return skillEnvelope(row, await deps.assets.get(row.workspaceId, assetId))
  } catch (err) {
    if (err instanceof NotFoundError) {
      return undefined
    }
    throw err
  }
}

export const register = mountRoute(route, handler)
