import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import type { Scope } from '../../access/scopes.ts'
import { workspaces } from './workspaces.ts'

/**
 * API keys: only the sha256 of a key is kept (the key itself is shown once, at creation). A
 * request is authenticated by one lookup on the unique `key_hash` index. Revoked keys stay as
 * rows (`revoked_at`), so a key id in an audit trail always resolves.
 */
export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    name: text('name'),
    keyHash: text('key_hash').notNull(),
    displayPrefix: text('display_prefix').notNull(),
    last4: text('last4').notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<Scope[]>().notNull(),
    /** Per-key limits; null: no limit of the key's own (the workspace's still applies). */
    requestsPerMinute: integer('requests_per_minute'),
    imagesPerMinute: integer('images_per_minute'),
    createdAt: text('created_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (table) => [
    uniqueIndex('api_keys_key_hash').on(table.keyHash),
    index('api_keys_workspace').on(table.workspaceId, table.id),
  ],
)

export type ApiKeyRow = typeof apiKeys.$inferSelect
