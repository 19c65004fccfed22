import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import { apiKeys } from '../pg-schema/index.ts'
import type { ApiKeysRepository } from '../ports.ts'
import { COUNT_ACTIVE_ADMINS } from './bootstrap.ts'

/**
 * API key rows on PostgreSQL. The columns map one to one onto the SQLite rows (times are text,
 * scopes jsonb read back as the array), so rows come back in the SQLite adapter's shape. The hash
 * lookup runs on every authenticated request: it is a named statement, parsed once per
 * connection.
 */
export function createPgApiKeysRepository(pool: Pool): ApiKeysRepository {
  const db = drizzle({ client: pool })
  const byHash = db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, sql.placeholder('keyHash')), isNull(apiKeys.revokedAt)))
    .prepare('api_keys_active_by_hash')
  const get = async (id: string) => {
    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id))
    return row
  }

  return {
    async insert(row) {
      const [inserted] = await db.insert(apiKeys).values(row).returning()
      if (!inserted) {
        throw new Error(`api key ${row.id} was not inserted`)
      }
      return inserted
    },

    async findActiveByHash(keyHash) {
      const [row] = await byHash.execute({ keyHash })
      return row
    },

    get,

    async listByWorkspace(workspaceId) {
      return db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.workspaceId, workspaceId))
        .orderBy(asc(apiKeys.id))
    },

    /** A key revoked already keeps its first `revoked_at`. */
    async revoke(id, at) {
      const [revoked] = await db
        .update(apiKeys)
        .set({ revokedAt: at })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning()
      return revoked ?? get(id)
    },

    async countActiveAdmins() {
      const { rows } = await pool.query<{ n: string }>(COUNT_ACTIVE_ADMINS)
      return Number(rows[0]?.n ?? 0)
    },
  }
}
