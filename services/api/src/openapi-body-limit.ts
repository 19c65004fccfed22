import { errorTable } from './errors/codes.ts'
import { routeAccess } from './routes/access-table.ts'

/**
 * The JSON body limit in the contract (http/middleware/body-limit.ts enforces it): every operation that
 * takes a JSON body may answer 413 payload_too_large, in its route's error envelope.
 */

type Json = Record<string, unknown>
type Operation = { requestBody?: { content?: Json }; responses: Record<string, Json> }

const METHODS = ['post', 'put', 'patch']

function tooLargeResponse(skill: boolean): Json {
  const error = {
    type: errorTable.payload_too_large.type,
    code: 'payload_too_large',
    message: 'The JSON body exceeds the limit of 1048576 bytes',
    param: null,
    requestId: 'req_01J9Z7Q8R4M2',
  }
  return {
    description:
      'The JSON body is larger than the server accepts (IMAGEGATE_MAX_JSON_BYTES, 1 MiB by default)',
    content: {
      'application/json': {
        schema: { $ref: `#/components/schemas/${skill ? 'ImageGenerateSkillFailure' : 'Error'}` },
        example: skill ? { ok: false, error } : { error },
      },
    },
  }
}

/** Adds the 413 answer to every operation with a JSON request body that lacks one. */
export function withJsonBodyLimit<T extends { paths?: unknown }>(doc: T): T {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method) || !op.requestBody?.content?.['application/json']) {
        continue
      }
      const skill = routeAccess(method, path).envelope === 'skill'
      op.responses['413'] ??= tooLargeResponse(skill)
    }
  }
  return doc
}
