import { z } from '@hono/zod-openapi'
import { errorCodes } from '../errors/codes.ts'

export const ErrorObjectSchema = z
  .strictObject({
    type: z.string().openapi({ description: 'Broad class, as in the OpenAI error envelope' }),
    code: z.enum(errorCodes).openapi({ description: 'Stable machine code (see the error table)' }),
    message: z.string().openapi({ description: 'Human-readable explanation' }),
    param: z.string().nullable().optional().openapi({ description: 'The offending parameter' }),
    requestId: z.string().openapi({ description: 'Echo of the x-request-id response header' }),
    issues: z
      .array(z.strictObject({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'Every validation problem, when there are several' }),
    stage: z.enum(['input', 'output']).optional(),
    reason: z.string().optional(),
    provider: z.string().optional(),
    upstreamStatus: z.number().int().optional(),
    finishReason: z.string().optional(),
    cost: z.number().optional(),
    balance: z.number().optional(),
    retryAfterSeconds: z.number().int().optional(),
  })
  .openapi('ErrorObject')

export const ErrorBodySchema = z.strictObject({ error: ErrorObjectSchema }).openapi('Error', {
  description: 'The one error body of imagegate (the OpenAI error envelope)',
  example: {
    error: {
      type: 'not_found_error',
      code: 'not_found',
      message: "No asset with id 'ast_01J9Z7Q8R4'",
      param: null,
      requestId: 'req_01J9Z7Q8R4M2',
    },
  },
})

export type ErrorBody = z.infer<typeof ErrorBodySchema>
