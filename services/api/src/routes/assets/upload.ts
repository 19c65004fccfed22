import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import type { AppDeps } from '../../deps.ts'
import { errorResponses } from '../../errors/responses.ts'
import { assertDeclaredLength, nodeRequestBody, readMultipart } from '../../http/multipart.ts'
import type { App } from '../../http/route-types.ts'
import { AssetSchema, AssetUploadFormSchema, Sha256Schema } from '../../schemas/asset.ts'
import { toAssetDto } from '../../services/asset-dto.ts'

const digestHeader = {
  'x-content-sha256': {
    description: 'sha256 of the stored bytes, 64 lowercase hex (echo of the request header)',
    schema: { type: 'string' as const, pattern: '^[0-9a-f]{64}$' },
  },
}

export const route = createRoute({
  method: 'post',
  path: '/v1/assets',
  operationId: 'uploadAsset',
  tags: ['Assets'],
  summary: 'Upload an image',
  description:
    'Streams a multipart upload to disk while hashing it. The `x-content-sha256` header must equal ' +
    'the sha256 of the file; the media type is sniffed from the bytes (PNG, JPEG, WebP, GIF). New ' +
    'bytes answer 201; bytes this workspace already has answer 200 with the existing asset.',
  request: {
    headers: z.object({
      'x-content-sha256': Sha256Schema.openapi({
        param: { name: 'x-content-sha256', in: 'header', required: true },
        description: 'sha256 of the file part, 64 lowercase hex',
      }),
    }),
    body: {
      required: true,
      content: { 'multipart/form-data': { schema: AssetUploadFormSchema } },
    },
  },
  responses: {
    201: {
      description: 'Stored new bytes as a new asset',
      headers: digestHeader,
      content: { 'application/json': { schema: AssetSchema } },
    },
    200: {
      description: 'The workspace already had these bytes: the existing asset',
      headers: digestHeader,
      content: { 'application/json': { schema: AssetSchema } },
    },
    ...errorResponses(400, 413, 415, 422, 503),
  },
})

export const access: RouteAccessRule = {
  scope: 'generate',
  rateLimit: 'requests',
  idempotent: true,
}

/**
 * Registered for the document only; the handler is mounted without zod-openapi's body
 * validator, which would buffer the whole multipart body in memory before we could stream it.
 */
export function register(app: App, deps: Pick<AppDeps, 'assets' | 'config'>) {
  app.openAPIRegistry.registerPath(route)
  app.post('/v1/assets', async (c) => {
    const body = nodeRequestBody(c)
    const { asset, created } = await deps.assets.upload(
      c.get('workspaceId'),
      c.req.header('x-content-sha256'),
      async (storeFile) => {
        assertDeclaredLength(c.req.raw, deps.config.maxUploadBytes)
        const { fields, files } = await readMultipart(c.req.raw, {
          fileFields: ['file'],
          maxFiles: 1,
          onFile: ({ stream }) => storeFile(stream),
          ...(body ? { body } : {}),
        })
        return { fields, stored: files[0]?.result }
      },
    )
    c.header('x-content-sha256', asset.contentHash)
    return c.json(toAssetDto(asset), created ? 201 : 200)
  })
}
