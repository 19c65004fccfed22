import { eq, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { assets } from '../schema/index.ts'

/**
 * The workspace an asset belongs to, by id alone. Only a signed URL needs this: it carries no
 * API key, so the asset's own row says whose it is (asset ids are random and global).
 */
export function createAssetWorkspaceLookup(db: Db) {
  let statement: ReturnType<typeof prepare> | undefined
  function prepare() {
    return db
      .select({ workspaceId: assets.workspaceId })
      .from(assets)
      .where(eq(assets.id, sql.placeholder('id')))
      .prepare()
  }
  return (assetId: string): string | undefined => {
    statement ??= prepare()
    return statement.get({ id: assetId })?.workspaceId
  }
}
