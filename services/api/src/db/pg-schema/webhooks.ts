import { sql } from 'drizzle-orm'
import {
  bigint,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { workspaces } from './workspaces.ts'

/** The PostgreSQL twin of schema/webhooks.ts. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    url: text('url').notNull(),
    events: jsonb('events').$type<string[]>().notNull(),
    description: text('description'),
    secret: text('secret').notNull(),
    createdAt: text('created_at').notNull(),
    disabledAt: text('disabled_at'),
    disabledReason: text('disabled_reason'),
  },
  (table) => [index('webhook_endpoints_workspace').on(table.workspaceId, table.id)],
)

export const webhookSigningSecrets = pgTable('webhook_signing_secrets', {
  workspaceId: text('workspace_id')
    .primaryKey()
    .references(() => workspaces.id),
  secret: text('secret').notNull(),
  createdAt: text('created_at').notNull(),
})

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    endpointId: text('endpoint_id').references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    eventType: text('event_type').notNull(),
    generationId: text('generation_id').notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull(),
    // Epoch milliseconds do not fit a 32-bit integer; SQLite's INTEGER is 64-bit.
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }).notNull(),
    leaseToken: text('lease_token'),
    leaseExpiresAt: bigint('lease_expires_at', { mode: 'number' }),
    createdAt: text('created_at').notNull(),
    finishedAt: text('finished_at'),
  },
  (table) => [
    index('webhook_deliveries_due').on(table.status, table.nextAttemptAt),
    index('webhook_deliveries_endpoint').on(table.endpointId, table.id),
    uniqueIndex('webhook_deliveries_endpoint_event').on(
      table.generationId,
      table.endpointId,
      table.eventType,
    ),
    uniqueIndex('webhook_deliveries_request_event')
      .on(table.generationId, table.eventType)
      .where(sql`endpoint_id is null`),
  ],
)

export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: text('id').primaryKey(),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    startedAt: text('started_at').notNull(),
    durationMs: doublePrecision('duration_ms').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
  },
  (table) => [uniqueIndex('webhook_attempts_delivery').on(table.deliveryId, table.attempt)],
)
