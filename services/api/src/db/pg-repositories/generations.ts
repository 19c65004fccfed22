import { and, desc, eq, inArray, lt, notExists, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import { generationJobs, generations } from '../pg-schema/index.ts'
import type { GenerationsRepository } from '../ports.ts'
import { generationListConditions } from '../repositories/generation-list.ts'
import { storedInstant } from '../repositories/stored-instant.ts'
import type { GenerationRow, NewGeneration } from '../schema/index.ts'

/**
 * Generation rows on PostgreSQL. The JSON columns are jsonb and come back parsed, times are the
 * same ISO text as on SQLite and the numbers are int4 and float8, which node-postgres reads as
 * numbers: rows have the SQLite adapter's shape. (jsonb keeps no key order: an object column
 * reads back with its keys in jsonb's order, equal but not byte-identical once serialised. The
 * model's turn is `json` instead, kept as written, so it reads back in the order it came.) Ids
 * compare byte-wise (COLLATE "C"), so pages and chains are in SQLite's order.
 */
export function createPgGenerationsRepository(pool: Pool): GenerationsRepository {
  const db = drizzle({ client: pool })

  async function updateReturning(
    id: string,
    changes: Partial<NewGeneration>,
  ): Promise<GenerationRow | undefined> {
    const [row] = await db
      .update(generations)
      .set(changes)
      .where(eq(generations.id, id))
      .returning()
    return row
  }

  return {
    async insert(row) {
      const [inserted] = await db.insert(generations).values(row).returning()
      if (!inserted) {
        throw new Error(`generation ${row.id} was not inserted`)
      }
      return inserted
    },

    async update(id, changes) {
      await db.update(generations).set(changes).where(eq(generations.id, id))
    },

    updateReturning,

    async get(workspaceId, id) {
      const [row] = await db
        .select()
        .from(generations)
        .where(and(eq(generations.workspaceId, workspaceId), eq(generations.id, id)))
      return row
    },

    /** The newest of the workspace's generations whose asset_ids contain `assetId` (jsonb @>). */
    async findByAsset(workspaceId, assetId) {
      const [row] = await db
        .select()
        .from(generations)
        .where(
          and(
            eq(generations.workspaceId, workspaceId),
            sql`${generations.assetIds} @> ${JSON.stringify([assetId])}::jsonb`,
          ),
        )
        .orderBy(desc(generations.id))
        .limit(1)
      return row
    },

    /**
     * Other instances' generations are live on a shared database, so a caller on PostgreSQL
     * passes `createdBefore`: an instant older than any generation still running anywhere (now
     * minus the longest model deadline and a margin). A row older than that was left by a
     * process that stopped; a younger one may be running on another instance.
     */
    async failRunning(error, finishedAt, scope = {}) {
      const marked = await db
        .update(generations)
        .set({ status: 'failed', error, finishedAt })
        .where(
          and(
            // Spelled as the partial index generations_unfinished's predicate, in literals, so
            // the planner can prove the index applies in a generic plan too (a prepared
            // statement's, or behind a pooler), not only when it sees bound values.
            sql`${generations.status} IN ('queued', 'running')`,
            scope.createdBefore === undefined
              ? undefined
              : lt(generations.createdAt, storedInstant(scope.createdBefore)),
            notExists(
              db
                .select({ id: generationJobs.generationId })
                .from(generationJobs)
                .where(
                  and(
                    eq(generationJobs.generationId, generations.id),
                    inArray(generationJobs.state, ['queued', 'running']),
                  ),
                ),
            ),
          ),
        )
      return marked.rowCount ?? 0
    },

    /** Newest first by time-ordered id; a chain (rootId) comes oldest first, in the order it grew. */
    async list(workspaceId, filter, page) {
      const chain = filter.rootId !== undefined
      const conditions = generationListConditions(generations, workspaceId, filter, page.afterId)
      return db
        .select()
        .from(generations)
        .where(and(...conditions))
        .orderBy(chain ? generations.id : desc(generations.id))
        .limit(page.limit + 1)
    },
  }
}
