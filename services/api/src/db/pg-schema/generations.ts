import { doublePrecision, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core'
import type { InputImageRef } from '../../refinement/types.ts'
import { workspaces } from './workspaces.ts'

/** The PostgreSQL twin of schema/generations.ts; its JSON columns are jsonb. */
export const generations = pgTable(
  'generations',
  {
    id: text('id').primaryKey(),
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
    modelTurn: jsonb('model_turn').$type<unknown>(),
    sourceTaskId: text('source_task_id'),
    createdAt: text('created_at').notNull(),
    finishedAt: text('finished_at'),
  },
  (table) => [
    index('generations_workspace_id').on(table.workspaceId, table.id),
    index('generations_workspace_root').on(table.workspaceId, table.rootGenerationId, table.id),
  ],
)
