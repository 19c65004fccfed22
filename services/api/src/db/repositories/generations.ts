import { and, desc, eq, gt, gte, lt, lte } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { type GenerationRow, generations, type NewGeneration } from '../schema/index.ts'

export type GenerationFilter = {
  status?: GenerationRow['status']
  model?: string
  provider?: string
  rootId?: string
  createdAfter?: string
  createdBefore?: string
}

export function createGenerationsRepository(db: Db) {
  return {
    insert(row: NewGeneration): GenerationRow {
      return db.insert(generations).values(row).returning().get()
    },

    update(id: string, changes: Partial<NewGeneration>): void {
      db.update(generations).set(changes).where(eq(generations.id, id)).run()
    },

    get(workspaceId: string, id: string): GenerationRow | undefined {
      return db
        .select()
        .from(generations)
        .where(and(eq(generations.workspaceId, workspaceId), eq(generations.id, id)))
        .get()
    },

    /** Newest first by time-ordered id; a chain (rootId) comes oldest first, in the order it grew. */
    list(workspaceId: string, filter: GenerationFilter, page: { limit: number; afterId?: string }) {
      const chain = filter.rootId !== undefined
      const conditions = [eq(generations.workspaceId, workspaceId)]
      if (page.afterId) {
        conditions.push(chain ? gt(generations.id, page.afterId) : lt(generations.id, page.afterId))
      }
      if (filter.status) {
        conditions.push(eq(generations.status, filter.status))
      }
      if (filter.model) {
        conditions.push(eq(generations.model, filter.model))
      }
      if (filter.provider) {
        conditions.push(eq(generations.provider, filter.provider))
      }
      if (filter.rootId) {
        conditions.push(eq(generations.rootGenerationId, filter.rootId))
      }
      // Stored times are toISOString() strings; a bound spelled `…:00Z` or `…:00.5Z` must be
      // respelled that way, or comparing the strings does not compare the instants.
      if (filter.createdAfter) {
        conditions.push(gte(generations.createdAt, new Date(filter.createdAfter).toISOString()))
      }
      if (filter.createdBefore) {
        conditions.push(lte(generations.createdAt, new Date(filter.createdBefore).toISOString()))
      }
      const query = db
        .select()
        .from(generations)
        .where(and(...conditions))
      return (chain ? query.orderBy(generations.id) : query.orderBy(desc(generations.id)))
        .limit(page.limit + 1)
        .all()
    },
  }
}

export type GenerationsRepository = ReturnType<typeof createGenerationsRepository>
