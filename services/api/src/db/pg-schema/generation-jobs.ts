import { bigint, boolean, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core'
import { generations } from './generations.ts'
import { workspaces } from './workspaces.ts'

/** Epoch milliseconds pass 2^31 in 1970: 64-bit, read as numbers. */
const epochMs = (name: string) => bigint(name, { mode: 'number' })

/** The PostgreSQL twin of schema/generation-jobs.ts. */
export const generationJobs = pgTable(
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
    payload: jsonb('payload').$type<unknown>().notNull(),
    reservationId: text('reservation_id'),
    attempts: integer('attempts').notNull(),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: epochMs('lease_expires_at'),
    dispatchedAt: epochMs('dispatched_at'),
    cancelRequested: boolean('cancel_requested').notNull(),
    createdAt: epochMs('created_at').notNull(),
    finishedAt: epochMs('finished_at'),
  },
  (table) => [
    index('generation_jobs_claim').on(table.state, table.createdAt),
    index('generation_jobs_workspace').on(table.workspaceId, table.state),
  ],
)
