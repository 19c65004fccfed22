import { ErrorBodySchema } from '../schemas/error.ts'
import { type ErrorCode, errorTable } from './codes.ts'

const descriptions: Record<number, string> = {
  400: 'The request is invalid',
  401: 'Missing or invalid API key',
  402: 'Not enough credits',
  403: 'The API key lacks the scope, or the signed URL is expired or forged',
  404: 'No such resource in this workspace',
  408: 'The request did not arrive in time',
  409: 'A request with this Idempotency-Key is still in flight',
  413: 'The body is larger than allowed',
  415: 'The media type is not supported',
  416: 'The requested range cannot be satisfied',
  422: 'The request is well-formed but cannot be processed',
  429: 'Too many requests',
  431: 'The request line or headers are too large',
  500: 'Internal error',
  502: 'The upstream provider failed',
  503: 'The upstream provider or the object store is unavailable',
  504: 'The upstream provider timed out',
}

function exampleFor(status: number) {
  const entry = Object.entries(errorTable).find(([, row]) => row.status === status)
  const code = (entry?.[0] ?? 'internal_error') as ErrorCode
  return {
    error: {
      type: errorTable[code].type,
      code,
      message: descriptions[status] ?? 'Error',
      param: null,
      requestId: 'req_01J9Z7Q8R4M2',
    },
  }
}

type ErrorResponse = {
  description: string
  content: { 'application/json': { schema: typeof ErrorBodySchema; example: unknown } }
}

/** Declared error responses for a route, spread into `createRoute({ responses })`. */
export function errorResponses<const S extends number>(...statuses: S[]): Record<S, ErrorResponse> {
  const all = [...new Set<number>([...statuses, 500])] as S[]
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: descriptions[status] ?? 'Error',
        content: { 'application/json': { schema: ErrorBodySchema, example: exampleFor(status) } },
      },
    ]),
  ) as Record<S, ErrorResponse>
}
