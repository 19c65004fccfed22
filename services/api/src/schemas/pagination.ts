import { z } from '@hono/zod-openapi'

export const PaginationQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .openapi({
      param: { name: 'cursor', in: 'query' },
      description: 'nextCursor of the previous page',
    }),
})

/** A page of `item`s, the shape every list route answers with. */
export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .strictObject({ data: z.array(item), nextCursor: z.string().nullable(), hasMore: z.boolean() })
    .openapi(name)
}
