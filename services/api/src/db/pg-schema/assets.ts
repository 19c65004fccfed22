import { bigint, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { byteOrderedText } from './columns.ts'
import { workspaces } from './workspaces.ts'

/** The PostgreSQL twin of schema/assets.ts. */
export const assets = pgTable(
  'assets',
  {
    // Byte-ordered: list pages are a keyset on the id, folders a range on the path.
    id: byteOrderedText('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    kind: text('kind').notNull(),
    mediaType: text('media_type').notNull(),
    contentHash: text('content_hash').notNull(),
    // SQLite's integers are 64-bit; sizes past 2 GiB must fit here too.
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    width: integer('width'),
    height: integer('height'),
    description: text('description'),
    folderPath: byteOrderedText('folder_path').notNull(),
    sourceTaskId: text('source_task_id'),
    sourceAgentImUserId: text('source_agent_im_user_id'),
    createdAt: text('created_at').notNull(),
  },
  (table) => [
    // One asset per (workspace, bytes): re-uploading returns the existing row.
    uniqueIndex('assets_workspace_hash').on(table.workspaceId, table.contentHash),
    index('assets_workspace_id').on(table.workspaceId, table.id),
    index('assets_workspace_folder').on(table.workspaceId, table.folderPath, table.id),
    index('assets_workspace_task').on(table.workspaceId, table.sourceTaskId, table.id),
    // GC asks "does any workspace still reference this blob?"
    index('assets_hash').on(table.contentHash),
  ],
)
