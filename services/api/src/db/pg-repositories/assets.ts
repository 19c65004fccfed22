import { and, desc, eq, lt, type SQL, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import { assets } from '../pg-schema/index.ts'
import type { AssetsRepository, NewAsset } from '../ports.ts'
import { storedInstant } from '../repositories/stored-instant.ts'
import type { AssetRow } from '../schema/index.ts'

/** Above every code point, so `[prefix, prefix + this)` holds every path that starts with prefix. */
const PREFIX_END = '\u{10FFFF}'

/**
 * The assets port on PostgreSQL, answering rows exactly as the SQLite adapter does. Ids and
 * folder paths are `COLLATE "C"` columns (pg-schema/columns.ts), so the keyset on the id and
 * the folder range compare bytes as SQLite does, on the same indexes; the creation instants,
 * which no index serves, are compared byte-wise in the query.
 */
export function createPgAssetsRepository(pool: pg.Pool): AssetsRepository {
  const db = drizzle({ client: pool })
  const byHash = async (workspaceId: string, contentHash: string) => {
    const [row] = await db
      .select()
      .from(assets)
      .where(and(eq(assets.workspaceId, workspaceId), eq(assets.contentHash, contentHash)))
    return row
  }

  return {
    /**
     * The insert yields to a row with the same bytes in the workspace (the unique index): one
     * committed meanwhile by another instance makes it wait for that commit and do nothing, so
     * the select after it, a statement of its own, sees that row.
     */
    async insertOrGet(row: NewAsset) {
      const [inserted] = await db
        .insert(assets)
        .values({
          ...row,
          width: row.width ?? null,
          height: row.height ?? null,
          description: row.description ?? null,
          sourceTaskId: row.sourceTaskId ?? null,
          sourceAgentImUserId: row.sourceAgentImUserId ?? null,
        })
        .onConflictDoNothing({ target: [assets.workspaceId, assets.contentHash] })
        .returning()
      if (inserted) {
        return { asset: inserted as AssetRow, created: true }
      }
      const existing = await byHash(row.workspaceId, row.contentHash)
      if (!existing) {
        throw new Error('asset insert conflicted but no row stands')
      }
      return { asset: existing as AssetRow, created: false }
    },

    async get(workspaceId, id) {
      const [row] = await db
        .select()
        .from(assets)
        .where(and(eq(assets.workspaceId, workspaceId), eq(assets.id, id)))
      return row as AssetRow | undefined
    },

    async list(workspaceId, filter, page) {
      const conditions: SQL[] = [eq(assets.workspaceId, workspaceId)]
      if (page.beforeId) {
        conditions.push(lt(assets.id, page.beforeId))
      }
      if (filter.kind) {
        conditions.push(eq(assets.kind, filter.kind))
      }
      if (filter.folderPath) {
        // A byte-wise range, not LIKE: case-sensitive (paths are) and served by the folder index.
        conditions.push(
          sql`${assets.folderPath} >= ${filter.folderPath}`,
          sql`${assets.folderPath} < ${`${filter.folderPath}${PREFIX_END}`}`,
        )
      }
      if (filter.sourceTaskId) {
        conditions.push(eq(assets.sourceTaskId, filter.sourceTaskId))
      }
      if (filter.mediaType) {
        conditions.push(eq(assets.mediaType, filter.mediaType))
      }
      if (filter.createdAfter) {
        conditions.push(
          sql`${assets.createdAt} COLLATE "C" >= ${storedInstant(filter.createdAfter)}`,
        )
      }
      if (filter.createdBefore) {
        conditions.push(
          sql`${assets.createdAt} COLLATE "C" <= ${storedInstant(filter.createdBefore)}`,
        )
      }
      const rows = await db
        .select()
        .from(assets)
        .where(and(...conditions))
        .orderBy(desc(assets.id))
        .limit(page.limit + 1)
      return rows as AssetRow[]
    },

    async delete(workspaceId, id) {
      const [row] = await db
        .delete(assets)
        .where(and(eq(assets.workspaceId, workspaceId), eq(assets.id, id)))
        .returning()
      return row as AssetRow | undefined
    },

    async isHashReferenced(contentHash) {
      const rows = await db
        .select({ one: sql<number>`1` })
        .from(assets)
        .where(eq(assets.contentHash, contentHash))
        .limit(1)
      return rows.length > 0
    },

    async workspaceOf(assetId) {
      const [row] = await db
        .select({ workspaceId: assets.workspaceId })
        .from(assets)
        .where(eq(assets.id, assetId))
      return row?.workspaceId
    },
  }
}
