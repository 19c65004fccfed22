import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { RouteAccessRule } from '../../access/scopes.ts'
import type { AppDeps } from '../../deps.ts'
import { AppError } from '../../errors/app-error.ts'
import { errorResponses } from '../../errors/responses.ts'
import { contentHeaders, notModifiedHeaders } from '../../http/content-headers.ts'
import type { AppEnv } from '../../http/env.ts'
import { resolveRange } from '../../http/range.ts'
import { addResponseHeaders } from '../../http/response-headers.ts'
import type { App } from '../../http/route-types.ts'
import { AssetIdParamsSchema } from '../../schemas/asset.ts'

const binary = z.string().openapi({ type: 'string', format: 'binary' })
const imageContent = {
  'image/png': { schema: binary },
  'image/jpeg': { schema: binary },
  'image/webp': { schema: binary },
  'image/gif': { schema: binary },
}
const header = (description: string) => ({ description, schema: { type: 'string' as const } })
const cacheHeaders = {
  etag: header('The sha256 of the content, quoted'),
  'cache-control': header('private, max-age=31536000, immutable'),
  'x-content-type-options': header('nosniff'),
  'content-security-policy': header('sandbox'),
}
const contentRequest = {
  params: AssetIdParamsSchema,
  headers: z.object({
    range: z.string().optional().openapi({ description: 'A single byte range, e.g. bytes=0-1023' }),
    'if-none-match': z
      .string()
      .optional()
      .openapi({ description: 'An ETag from an earlier answer' }),
  }),
}
const contentResponses = {
  200: {
    description: 'The verified bytes',
    headers: {
      ...cacheHeaders,
      'content-disposition': header('inline; filename="generated-<hash8>.<ext>"'),
    },
    content: imageContent,
  },
  206: {
    description: 'The requested byte range',
    headers: { ...cacheHeaders, 'content-range': header('bytes <first>-<last>/<size>') },
    content: imageContent,
  },
  304: { description: 'Not modified: the ETag matched', headers: cacheHeaders },
  ...errorResponses(404, 416, 503),
}

export const route = createRoute({
  method: 'get',
  path: '/v1/assets/{id}/content',
  operationId: 'getAssetContent',
  tags: ['Assets'],
  summary: 'Download asset bytes',
  description:
    'The bytes, verified against their sha256 before they are served; a blob that fails ' +
    'verification is quarantined and answers 500, never corrupt bytes. Supports a single Range, ' +
    'If-None-Match revalidation (the ETag is the hash) and immutable caching.',
  request: contentRequest,
  responses: contentResponses,
})

export const headRoute = createRoute({
  method: 'head',
  path: '/v1/assets/{id}/content',
  operationId: 'headAssetContent',
  tags: ['Assets'],
  summary: 'Asset content headers',
  description: 'The headers of GET /v1/assets/{id}/content, without the body.',
  request: contentRequest,
  responses: contentResponses,
})

export const access: RouteAccessRule = { scope: 'read', rateLimit: 'requests', signedUrl: true }

/**
 * One handler for GET and HEAD: Hono answers HEAD by running the GET handler and dropping its
 * body. HEAD still verifies the content (its headers promise bytes GET must be able to serve),
 * then lets go of the stream so no file stays open.
 */
function serve(deps: Pick<AppDeps, 'assets'>) {
  return async (c: Context<AppEnv>) => {
    const withBody = c.req.method !== 'HEAD'
    const row = await deps.assets.get(c.get('workspaceId'), c.req.param('id') ?? '')
    const headers = contentHeaders(row)
    const notModified = notModifiedHeaders(headers, c.req.header('if-none-match'))
    if (notModified) {
      // Set only here, where nothing can fail any more: an error answer must never carry
      // the year-long cache-control of the content.
      addResponseHeaders(c, notModified)
      return c.body(null, 304)
    }
    const range = resolveRange(c.req.header('range'), row.sizeBytes)
    if (range === 'unsatisfiable') {
      throw new AppError('range_not_satisfiable', `The asset has ${row.sizeBytes} bytes`, {
        headers: { 'content-range': `bytes */${row.sizeBytes}` },
      })
    }
    const status = range ? 206 : 200
    const length = range ? range.length : row.sizeBytes
    const responseHeaders = headers.full
    responseHeaders['content-length'] = String(length)
    if (range) {
      responseHeaders['content-range'] =
        `bytes ${range.offset}-${range.offset + range.length - 1}/${row.sizeBytes}`
    }
    const blob = await deps.assets.openContent(
      row,
      range ? { offset: range.offset, length: range.length } : undefined,
    )
    if (!withBody) {
      if (blob.kind === 'stream') {
        await blob.stream.cancel()
      }
      responseHeaders['content-type'] = headers.contentType
      return c.body(null, status, responseHeaders)
    }
    const body = blob.kind === 'bytes' ? blob.bytes : blob.stream
    // The type goes with the body: without one the server would state its own default type.
    addResponseHeaders(c, responseHeaders)
    return c.body(body as Uint8Array<ArrayBuffer>, status, { 'content-type': headers.contentType })
  }
}

export function register(app: App, deps: Pick<AppDeps, 'assets'>) {
  app.openAPIRegistry.registerPath(headRoute)
  app.openAPIRegistry.registerPath(route)
  app.get('/v1/assets/:id/content', serve(deps))
}
