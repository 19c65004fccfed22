import { z } from '@hono/zod-openapi'
import { pageOf } from './pagination.ts'

export const AssetIdSchema = z
  .string()
  .regex(/^ast_[0-9A-Z]{26}$/)
  .openapi({ example: 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA' })

export const Sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .openapi({ example: 'f2ca1bb6c7e907d06dafe4687e579fce76b37e4e93b7605022da52e6ccc26fd2' })

export const MediaTypeSchema = z.enum(['image/png', 'image/jpeg', 'image/webp', 'image/gif'])

export const AssetKindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/)
  .openapi({
    description: 'What the asset is for: image, reference, logo, face, character, mask…',
    example: 'image',
  })

export const FolderPathSchema = z
  .string()
  .max(500)
  .regex(/^\/(?:[A-Za-z0-9._ -]+\/?)*$/)
  .refine((value) => !value.split('/').some((segment) => segment === '.' || segment === '..'), {
    message: 'folderPath must not contain . or .. segments',
  })
  .openapi({ example: '/generated/images/2026-11' })

export const AssetSchema = z
  .strictObject({
    id: AssetIdSchema,
    workspaceId: z.string(),
    kind: AssetKindSchema,
    mediaType: MediaTypeSchema,
    contentHash: Sha256Schema,
    sizeBytes: z.number().int().min(0),
    width: z.number().int().min(1).optional(),
    height: z.number().int().min(1).optional(),
    description: z.string().optional(),
    folderPath: FolderPathSchema,
    sourceTaskId: z.string().optional(),
    sourceAgentImUserId: z.string().optional(),
    uri: z.string().openapi({ example: 'imagegate://assets/ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA' }),
    cdnUrl: z.string().openapi({ example: '/v1/assets/ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA/content' }),
    createdAt: z.string().datetime().openapi({ example: '2026-11-21T10:00:00.000Z' }),
  })
  .openapi('Asset', {
    example: {
      id: 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA',
      workspaceId: 'default',
      kind: 'image',
      mediaType: 'image/png',
      contentHash: 'f2ca1bb6c7e907d06dafe4687e579fce76b37e4e93b7605022da52e6ccc26fd2',
      sizeBytes: 48213,
      width: 1024,
      height: 1024,
      description: 'A lighthouse at dusk, watercolor',
      folderPath: '/generated/images/2026-11',
      uri: 'imagegate://assets/ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA',
      cdnUrl: '/v1/assets/ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA/content',
      createdAt: '2026-11-21T10:00:00.000Z',
    },
  })

export type Asset = z.infer<typeof AssetSchema>

export const AssetPageSchema = pageOf(AssetSchema, 'AssetPage')

export const AssetUploadFormSchema = z
  .object({
    file: z.string().openapi({ type: 'string', format: 'binary', description: 'The image bytes' }),
    kind: AssetKindSchema.optional(),
    description: z.string().max(2000).optional(),
    folderPath: FolderPathSchema.optional(),
    sourceTaskId: z.string().max(200).optional(),
    sourceAgentImUserId: z.string().max(200).optional(),
  })
  .openapi('AssetUpload')

const ASSET_ID_EXAMPLE = 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA'

/**
 * Any string: an id that names no asset of the caller's workspace is a 404 whatever its shape or
 * length, on every asset route alike (the content route is not validated by zod-openapi).
 */
export const AssetIdParamsSchema = z.object({
  id: z.string().openapi({
    param: { name: 'id', in: 'path', example: ASSET_ID_EXAMPLE },
    example: ASSET_ID_EXAMPLE,
  }),
})
