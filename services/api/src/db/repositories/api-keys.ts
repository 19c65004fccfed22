import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { type ApiKeyRow, apiKeys } from '../schema/index.ts'

export type NewApiKey = typeof apiKeys.$inferInsert

/** API key rows. The hash lookup is prepared once: it runs on every authenticated request. */
export function createApiKeysRepository(db: Db) {
  let byHash: ReturnType<typeof prepareByHash> | undefined
  function prepareByHash() {
    return db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, sql.placeholder('keyHash')), isNull(apiKeys.revokedAt)))
      .prepare()
  }

  return {
    insert(row: NewApiKey): ApiKeyRow {
      return db.insert(apiKeys).values(row).returning().get()
    },

    /** The live (not revoked) key with this sha256, if any. */
    findActiveByHash(keyHash: string): ApiKeyRow | undefined {
      byHash ??= prepareByHash()
      return byHash.get({ keyHash })
    },

    get(id: string): ApiKeyRow | undefined {
      return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get()
    },

    listByWorkspace(workspaceId: string): ApiKeyRow[] {
      return db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.workspaceId, workspaceId))
        .orderBy(asc(apiKeys.id))
        .all()
    },

    /** Marks the key revoked (once); answers the row as it now stands. */
    revoke(id: string, at: string): ApiKeyRow | undefined {
      db.update(apiKeys)
        .set({ revokedAt: at })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .run()
      return this.get(id)
    },

    /** Live keys that hold the admin scope, in any workspace. */
    countActiveAdmins(): number {
      const row = db
        .select({ n: sql<number>`count(*)` })
        .from(apiKeys)
        .where(
          and(
            isNull(apiKeys.revokedAt),
            sql`exists (select 1 from json_each(${apiKeys.scopes}) where value = 'admin')`,
          ),
        )
        .get()
      return row?.n ?? 0
    },
  }
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>
