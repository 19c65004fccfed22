import { index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'
import type { Scope } from '../../access/scopes.ts'
import { workspaces } from './workspaces.ts'

/** The PostgreSQL twin of schema/api-keys.ts (only the key's sha256 is kept). */
export const apiKeys = pgTable(
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
    scopes: jsonb('scopes').$type<Scope[]>().notNull(),
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
