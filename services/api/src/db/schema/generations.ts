import { sql } from 'drizzle-orm'
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { InputImageRef } from '../../refinement/types.ts'
import { workspaces } from './workspaces.ts'

/** One row per generation request: what was asked, what happened upstream, what it cost. */
export const generations = sqliteTable(
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
    parameters: text('parameters', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    assetIds: text('asset_ids', { mode: 'json' }).$type<string[]>().notNull(),
    attempts: text('attempts', { mode: 'json' }).$type<unknown[]>().notNull(),
    warnings: text('warnings', { mode: 'json' }).$type<string[]>().notNull(),
    usage: text('usage', { mode: 'json' }).$type<Record<string, number>>(),
    costCents: real('cost_cents').notNull(),
    error: text('error', { mode: 'json' }).$type<Record<string, unknown>>(),
    timings: text('timings', { mode: 'json' }).$type<Record<string, number>>(),
    parentGenerationId: text('parent_generation_id'),
    rootGenerationId: text('root_generation_id'),
    /** The image of the parent generation this one refined (a refinement by asset or by generation). */
    parentAssetId: text('parent_asset_id'),
    inputAssetIds: text('input_asset_ids', { mode: 'json' }).$type<string[]>().notNull(),
    /** The input images in the order they were sent, with their roles and display names. */
    inputs: text('inputs', { mode: 'json' }).$type<InputImageRef[]>(),
    /**
     * For each of `assetIds`, the index of the image among those the provider returned (they
     * differ when one image of several could not be stored). Null: the same index.
     */
    imageIndexes: text('image_indexes', { mode: 'json' }).$type<number[]>(),
    /** The user turn's text as sent upstream (prompt framing included), replayed by refinements. */
    sentText: text('sent_text'),
    /** What a refinement replays (e.g. Gemini's model turn with thought signatures). Never sent to clients. */
    modelTurn: text('model_turn', { mode: 'json' }).$type<unknown>(),
    sourceTaskId: text('source_task_id'),
    /** The request's own `webhook_url`: its final status is announced there too. */
    webhookUrl: text('webhook_url'),
    createdAt: text('created_at').notNull(),
    finishedAt: text('finished_at'),
    /**
     * When the announcement of its final status was written: its webhook deliveries (the
     * outbox rows, none when nothing listens), in the same commit. Null on a finished
     * generation means the announcement is still owed, and the recovery pass writes it
     * (services/webhook-recovery.ts). A request refused before it ran announces nothing and
     * is recorded with it set.
     */
    announcedAt: text('announced_at'),
  },
  (table) => [
    index('generations_workspace_id').on(table.workspaceId, table.id),
    index('generations_workspace_root').on(table.workspaceId, table.rootGenerationId, table.id),
    // Only the generations whose announcement is owed (or that have not finished): a handful.
    index('generations_unannounced').on(table.finishedAt).where(sql`announced_at is null`),
  ],
)

export type GenerationRow = typeof generations.$inferSelect
export type NewGeneration = typeof generations.$inferInsert
