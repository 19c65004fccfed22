import { sql } from 'drizzle-orm'
import { doublePrecision, index, integer, json, jsonb, pgTable, text } from 'drizzle-orm/pg-core'
import type { InputImageRef } from '../../refinement/types.ts'
import { byteOrderedText } from './columns.ts'
import { workspaces } from './workspaces.ts'

/**
 * The PostgreSQL twin of schema/generations.ts; its JSON columns are jsonb, but for the model's
 * turn, which is kept as written (json).
 */
export const generations = pgTable(
  'generations',
  {
    // Byte-ordered: list pages are a keyset on the id, newest first (a chain oldest first).
    id: byteOrderedText('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    status: text('status', {
      enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'],
    }).notNull(),
    operation: text('operation', { enum: ['generate', 'edit', 'skill'] }).notNull(),
    prompt: text('prompt').notNull(),
    promptHash: text('prompt_hash').notNull(),
    model: text('model').notNull(),
    provider: text('provider').notNull(),
    size: text('size'),
    seed: integer('seed'),
    n: integer('n').notNull(),
    parameters: jsonb('parameters').$type<Record<string, unknown>>().notNull(),
    assetIds: jsonb('asset_ids').$type<string[]>().notNull(),
    attempts: jsonb('attempts').$type<unknown[]>().notNull(),
    warnings: jsonb('warnings').$type<string[]>().notNull(),
    usage: jsonb('usage').$type<Record<string, number>>(),
    // SQLite's REAL is an 8-byte float.
    costCents: doublePrecision('cost_cents').notNull(),
    error: jsonb('error').$type<Record<string, unknown>>(),
    timings: jsonb('timings').$type<Record<string, number>>(),
    parentGenerationId: text('parent_generation_id'),
    rootGenerationId: text('root_generation_id'),
    parentAssetId: text('parent_asset_id'),
    inputAssetIds: jsonb('input_asset_ids').$type<string[]>().notNull(),
    inputs: jsonb('inputs').$type<InputImageRef[]>(),
    imageIndexes: jsonb('image_indexes').$type<number[]>(),
    sentText: text('sent_text'),
    // Replayed upstream exactly as received (refinement/types.ts): `json` keeps the text as
    // written, where jsonb would reorder its keys and drop duplicate ones.
    modelTurn: json('model_turn').$type<unknown>(),
    sourceTaskId: text('source_task_id'),
    webhookUrl: text('webhook_url'),
    createdAt: text('created_at').notNull(),
    finishedAt: text('finished_at'),
    announcedAt: text('announced_at'),
  },
  (table) => [
    index('generations_workspace_id').on(table.workspaceId, table.id),
    index('generations_workspace_root').on(table.workspaceId, table.rootGenerationId, table.id),
    // findByAsset's containment test (asset_ids @> '["ast_…"]'); PostgreSQL only (mirror.test.ts).
    index('generations_asset_ids').using('gin', table.assetIds.op('jsonb_path_ops')),
    // failRunning's scan, which every instance's periodic sweep runs; PostgreSQL only.
    index('generations_unfinished')
      .on(table.createdAt)
      .where(sql`${table.status} IN ('queued', 'running')`),
    // The recovery pass's scan (services/webhook-recovery.ts): owed announcements only.
    index('generations_unannounced').on(table.finishedAt).where(sql`announced_at is null`),
  ],
)
