import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { generations } from './generations.ts'
import { workspaces } from './workspaces.ts'

/**
 * One row per asynchronous generation (`Prefer: respond-async`): the durable queue the workers
 * claim from (services/jobs). Times are epoch milliseconds, so a lease is compared as a number.
 * `dispatched_at` is written before the provider is called: a job whose lease ran out after it
 * is never sent again (the provider may have charged for it), only finished as interrupted.
 */
export const generationJobs = sqliteTable(
  'generation_jobs',
  {
    generationId: text('generation_id')
      .primaryKey()
      .references(() => generations.id),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    state: text('state', {
      enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'],
    }).notNull(),
    /** What the worker runs: the prepared generation, as plain JSON. */
    payload: text('payload', { mode: 'json' }).$type<unknown>().notNull(),
    /** The credit hold taken when the job was accepted; null for a free model. */
    reservationId: text('reservation_id'),
    /** Claims so far (a claim whose worker died before dispatch is retried). */
    attempts: integer('attempts').notNull(),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: integer('lease_expires_at'),
    dispatchedAt: integer('dispatched_at'),
    cancelRequested: integer('cancel_requested', { mode: 'boolean' }).notNull(),
    createdAt: integer('created_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (table) => [
    index('generation_jobs_claim').on(table.state, table.createdAt),
    index('generation_jobs_workspace').on(table.workspaceId, table.state),
  ],
)

export type GenerationJobRow = typeof generationJobs.$inferSelect
