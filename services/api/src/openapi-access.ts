import { createHash } from 'node:crypto'
import { MAX_IDEMPOTENCY_KEY_LENGTH } from './access/idempotency-key.ts'
import { type ErrorCode, errorTable } from './errors/codes.ts'
import { routeAccess } from './routes/access-table.ts'

/**
 * Access control in the contract, derived from routeAccessTable (the table the middleware
 * enforces), so the document and the server cannot disagree: the `bearer` scheme on every
 * non-public operation, signed URLs on the content routes, the Idempotency-Key header on the
 * idempotent POSTs, and the refusals each of them can answer (401, 403, 402, 409, 422, 429).
 */

type Json = Record<string, unknown>
type Operation = {
  operationId?: string
  security?: Json[]
  parameters?: Json[]
  responses: Record<string, Json>
}

export const securitySchemes = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'igk_<43 base62 characters><6 base62 checksum characters>',
    description:
      'An API key: `Authorization: Bearer igk_…`. The first start prints an admin key and writes ' +
      'it to `<data dir>/bootstrap-key`; admins create more with POST /v1/workspaces/{id}/keys.',
  },
  signedUrl: {
    type: 'apiKey',
    in: 'query',
    name: 'signature',
    description:
      'A signed asset URL (`?expires=<unix seconds>&signature=<HMAC>`), as `response_format=url` ' +
      'answers hand out: for places that cannot send a header, such as an <img> tag.',
  },
} as const

const refusal: Record<number, { code: ErrorCode; description: string; message: string }> = {
  401: {
    code: 'unauthorized',
    description: 'Missing or invalid API key',
    message: 'Missing or invalid API key',
  },
  402: {
    code: 'insufficient_credits',
    description: 'Not enough credits for the worst case of this request (cost and balance)',
    message: 'This request costs 16.7 credits; the workspace has 3.2',
  },
  409: {
    code: 'idempotency_key_in_use',
    description: 'A request with this Idempotency-Key is still in flight; retry after Retry-After',
    message: 'A request with this Idempotency-Key is still in progress; retry after it completes',
  },
  422: {
    code: 'idempotency_key_reused',
    description: 'This Idempotency-Key was already used for a different request',
    message: 'This Idempotency-Key was already used for a different request',
  },
  429: {
    code: 'rate_limited',
    description: 'Too many requests (per key, per workspace, or failed authentications)',
    message: 'Rate limit exceeded: key-requests',
  },
}

const forbidden = {
  insufficient_scope: {
    description: 'The API key lacks the scope this route needs',
    message: "This API key lacks the 'admin' scope",
  },
  invalid_signature: {
    description: 'The signed URL is expired or its signature is invalid',
    message: 'The signed URL is expired or its signature is invalid',
  },
} as const

const retryAfter = {
  'Retry-After': {
    description: 'Seconds to wait before retrying',
    schema: { type: 'integer', minimum: 1 },
  },
}

const rateLimitHeaders = {
  RateLimit: {
    description: 'Remaining quota per policy (IETF draft): `"key-requests";r=59;t=1`',
    schema: { type: 'string' },
  },
  'RateLimit-Policy': {
    description: 'The policies that apply (IETF draft): `"key-requests";q=60;w=60`',
    schema: { type: 'string' },
  },
}

function errorContent(skill: boolean, code: ErrorCode, message: string) {
  const error = {
    type: errorTable[code].type,
    code,
    message,
    param: null,
    requestId: 'req_01J9Z7Q8R4M2',
  }
  return {
    'application/json': {
      schema: { $ref: `#/components/schemas/${skill ? 'ImageGenerateSkillFailure' : 'Error'}` },
      example: skill ? { ok: false, error } : { error },
    },
  }
}

function addResponse(
  op: Operation,
  status: number,
  skill: boolean,
  row: { code: ErrorCode; description: string; message: string },
  headers?: Json,
) {
  const existing = op.responses[String(status)]
  if (existing) {
    // Another refusal already shares the status (e.g. 422 digest_mismatch): name both.
    if (!String(existing.description).includes(row.code)) {
      existing.description = `${String(existing.description)}; or ${row.code}: ${row.description}`
    }
    return
  }
  op.responses[String(status)] = {
    description: row.description,
    ...(headers ? { headers } : {}),
    content: errorContent(skill, row.code, row.message),
  }
}

/**
 * A UUID of each operation's own for its Idempotency-Key example: one shared value would invite
 * copying it from one operation's example into another's request (a 422 idempotency_key_reused).
 * Derived from the operation, so the document stays the same from one generation to the next.
 */
function idempotencyKeyExample(operation: string): string {
  const hex = createHash('sha256').update(operation).digest('hex')
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function decorate(method: string, path: string, op: Operation) {
  const row = routeAccess(method, path)
  if (row.access === 'public') {
    op.security = []
    return
  }
  const skill = row.envelope === 'skill'
  op.security = row.signedUrl ? [{ bearer: [] }, { signedUrl: [] }] : [{ bearer: [] }]
  for (const [status, response] of Object.entries(op.responses)) {
    if (status.startsWith('2')) {
      response.headers = { ...rateLimitHeaders, ...(response.headers as Json | undefined) }
    }
  }
  addResponse(op, 401, skill, refusal[401] as (typeof refusal)[401])
  if (row.access !== 'read') {
    addResponse(op, 403, skill, { code: 'insufficient_scope', ...forbidden.insufficient_scope })
  }
  if (row.signedUrl) {
    addResponse(op, 403, skill, { code: 'invalid_signature', ...forbidden.invalid_signature })
    op.parameters = [
      ...(op.parameters ?? []),
      {
        name: 'expires',
        in: 'query',
        required: false,
        description: 'Signed URLs only: when the signature expires (unix seconds)',
        schema: { type: 'integer', minimum: 1 },
      },
    ]
  }
  if (row.charged) {
    addResponse(op, 402, skill, refusal[402] as (typeof refusal)[402])
  }
  if (row.idempotent) {
    op.parameters = [
      ...(op.parameters ?? []),
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Makes retries safe: the same key with the same request replays the first answer byte ' +
          'for byte (one upstream call, one debit) for 24 h. Bare or as a quoted string, ' +
          `1–${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters.`,
        schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_LENGTH + 2 },
        example: idempotencyKeyExample(`${method} ${path} ${op.operationId ?? ''}`),
      },
    ]
    for (const [status, response] of Object.entries(op.responses)) {
      if (status.startsWith('2')) {
        response.headers = {
          ...(response.headers as Json | undefined),
          'Idempotent-Replayed': {
            description: '`true` when this is the stored answer of an earlier request',
            schema: { type: 'string', enum: ['true'] },
          },
        }
      }
    }
    addResponse(op, 409, skill, refusal[409] as (typeof refusal)[409], retryAfter)
    addResponse(op, 422, skill, refusal[422] as (typeof refusal)[422])
  }
  addResponse(op, 429, skill, refusal[429] as (typeof refusal)[429], retryAfter)
  op.responses = Object.fromEntries(
    Object.entries(op.responses).sort(([a], [b]) => a.localeCompare(b)),
  )
}

/** Adds the security schemes and every operation's access facts to a generated document. */
export function withAccessControl<T extends { paths?: unknown; components?: unknown }>(doc: T): T {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (['get', 'head', 'post', 'put', 'patch', 'delete'].includes(method)) {
        decorate(method, path, op)
      }
    }
  }
  const components = (doc.components ?? {}) as Json
  components.securitySchemes = securitySchemes
  return { ...doc, components, security: [{ bearer: [] }] }
}
