import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import {
  GENERATION_ID_EXAMPLE,
  GenerationIdParamSchema,
  GenerationSchema,
} from '../../schemas/generation.ts'
import { toGenerationDto } from '../../services/generation/dto.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/generations/{id}/cancel',
  operationId: 'cancelGeneration',
  tags: ['Generations'],
  summary: 'Cancel an asynchronous generation',
  description:
    'Cancels a generation accepted with `Prefer: respond-async`. A `queued` one is cancelled at ' +
    'once and its credit hold released: nothing was sent to the provider. A `running` one has ' +
    'its provider call aborted (at once on the instance that runs it, otherwise within a third ' +
    'of IMAGEGATE_JOB_LEASE_MS) and ends `cancelled` with nothing charged; a provider that had ' +
    'already answered wins, and the generation ends `succeeded` and is charged. The answer is ' +
    'the record as it stands once the job stopped (or after 5 s: poll it). A finished ' +
    'generation, or one that ran within its request, answers 409 generation_not_cancellable.',
  request: {
    params: GenerationIdParamSchema,
  },
  responses: {
    200: {
      description: 'The record after the cancel: `cancelled`, or still `running` while it stops',
      content: { 'application/json': { schema: GenerationSchema } },
    },
    ...errorResponses(400, 404),
    409: {
      description: 'The generation has finished, or it was not accepted as a job',
      content: {
        'application/json': {
          schema: ErrorBodySchema,
          example: {
            error: {
              type: 'conflict_error',
              code: 'generation_not_cancellable',
              message: `Generation ${GENERATION_ID_EXAMPLE} has already finished (succeeded)`,
              param: null,
              requestId: 'req_01J9Z7Q8R4M2',
            },
          },
        },
      },
    },
  },
})

export const access: RouteAccessRule = { scope: 'generate', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'jobs'> = (deps) => async (c) => {
  const row = await deps.jobs.cancel(c.get('workspaceId'), c.req.valid('param').id)
  return c.json(toGenerationDto(row), 200)
}

export const register = mountRoute(route, handler)
