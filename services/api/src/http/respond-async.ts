import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { GenerationRow } from '../db/schema/index.ts'
import { GenerationSchema } from '../schemas/generation.ts'
import { toGenerationDto } from '../services/generation/dto.ts'
import type { AppEnv } from './env.ts'

/** How long a client is asked to wait before it first polls an accepted job, in seconds. */
export const POLL_AFTER_SECONDS = 1

/**
 * Whether a Prefer header (RFC 7240) asks for `respond-async`: preferences are comma-separated,
 * each a token with optional `=value` and `;` parameters, names case-insensitive. A preference
 * the server does not know is ignored, as the RFC asks.
 */
export function prefersRespondAsync(header: string | undefined): boolean {
  if (!header) {
    return false
  }
  return header
    .split(',')
    .some(
      (preference) =>
        preference.split(';')[0]?.split('=')[0]?.trim().toLowerCase() === 'respond-async',
    )
}

/** The Prefer request header of the routes that can answer asynchronously. */
export const PreferHeadersSchema = z.object({
  prefer: z
    .string()
    .optional()
    .openapi({
      description:
        '`respond-async` (RFC 7240): answer 202 Accepted at once with the generation record ' +
        '(status `queued`) and poll GET /v1/generations/{id}, or cancel it with POST ' +
        '/v1/generations/{id}/cancel. Rate limits and credits are checked before the 202.',
      example: 'respond-async',
    }),
})

const header = (description: string) => ({ description, schema: { type: 'string' as const } })

/** The 202 answer of a generation accepted as a job. */
export const acceptedResponse = {
  202: {
    description:
      'Accepted (`Prefer: respond-async`): the generation record, `queued`; its images are ' +
      'stored and referenced by the record once it has `succeeded`',
    headers: {
      location: header('/v1/generations/{id}: where the record is polled'),
      'preference-applied': header('respond-async'),
      'retry-after': header('Seconds to wait before the first poll'),
    },
    content: { 'application/json': { schema: GenerationSchema } },
  },
}

/**
 * Answers 202 with the queued record. The headers are on the answer itself, so an
 * Idempotency-Key replay carries them too.
 */
export function acceptedAnswer(c: Context<AppEnv>, generation: GenerationRow) {
  return c.json(toGenerationDto(generation), 202, {
    location: `/v1/generations/${generation.id}`,
    'preference-applied': 'respond-async',
    'retry-after': String(POLL_AFTER_SECONDS),
  })
}
