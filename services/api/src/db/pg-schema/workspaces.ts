import { pgTable, text } from 'drizzle-orm/pg-core'

/**
 * The PostgreSQL twin of schema/workspaces.ts. Throughout this schema, times stay ISO-8601 UTC
 * text as in SQLite rather than timestamptz: the repositories write and compare the same
 * strings on both backends (they sort as the times they name), and keyset cursors carry them
 * as they are.
 */
export const workspaces = pgTable('workspaces', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: text('created_at').notNull(),
})
