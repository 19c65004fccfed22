import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import type { ApiKeysRepository } from '../ports.ts'
import { apiKeys } from '../schema/index.ts'

/** API key rows on SQLite. The hash lookup is prepared once: it runs on every authenticated request. */
export function createApiKeysRepository(db: Db): ApiKeysRepository {
  let byHash: ReturnType<typeof prepareByHash> | undefined
  function prepareByHash() {
    return db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, sql.placeholder('keyHash')), isNull(apiKeys.revokedAt)))
      .prepare()
  }

  return {
    async insert(row) {
      return db.insert(apiKeys).values(row).returning().get()
    },

    async findActiveByHash(keyHash) {
      byHash ??= prepareByHash()
      return byHash.get({ keyHash })
    },

    async get(id) {
      return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get()
    },

    async listByWorkspace(workspaceId) {
      return db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.workspaceId, workspaceId))
        .orderBy(asc(apiKeys.id))
        .all()
    },

    async revoke(id, at) {
      db.update(apiKeys)
        .set({ revokedAt: at })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .run()
      return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get()
    },

    countActiveAdmins: async () => countActiveAdmins(db),
  }
}

/** Live keys that hold the admin scope, in any workspace (bootstrap's question too). */
export function countActiveAdmins(db: Db): number {
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
}
