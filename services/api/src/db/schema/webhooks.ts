import { sql } from 'drizzle-orm'
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { workspaces } from './workspaces.ts'

/**
 * Endpoints a workspace registered for generation events. The signing secret is kept as is
 * (not hashed): every delivery is signed with it.
 */
export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    url: text('url').notNull(),
    events: text('events', { mode: 'json' }).$type<string[]>().notNull(),
    description: text('description'),
    secret: text('secret').notNull(),
    createdAt: text('created_at').notNull(),
    /** Set when the receiver answered 410 Gone: no more deliveries are made to it. */
    disabledAt: text('disabled_at'),
    disabledReason: text('disabled_reason'),
  },
  (table) => [index('webhook_endpoints_workspace').on(table.workspaceId, table.id)],
)

/** The secret that signs deliveries to a request's own `webhook_url`, one per workspace. */
export const webhookSigningSecrets = sqliteTable('webhook_signing_secrets', {
  workspaceId: text('workspace_id')
    .primaryKey()
    .references(() => workspaces.id),
  secret: text('secret').notNull(),
  createdAt: text('created_at').notNull(),
})

/**
 * The outbox: one row per event and target, written when the generation reaches its final
 * status. A dispatcher claims due rows with a lease (`lease_token`, `lease_expires_at`, epoch
 * ms) and writes the outcome of each attempt back under that lease.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    /** Also the `webhook-id` header: the same on every attempt, so receivers can deduplicate. */
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    /** Null for a request's own `webhook_url`. */
    endpointId: text('endpoint_id').references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    eventType: text('event_type').notNull(),
    generationId: text('generation_id').notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    leaseToken: text('lease_token'),
    leaseExpiresAt: integer('lease_expires_at'),
    createdAt: text('created_at').notNull(),
    finishedAt: text('finished_at'),
  },
  (table) => [
    index('webhook_deliveries_due').on(table.status, table.nextAttemptAt),
    index('webhook_deliveries_endpoint').on(table.endpointId, table.id),
    // One delivery per generation, target and event, however often it is announced (the
    // normal path and the recovery pass racing, or two instances): writes skip a second.
    uniqueIndex('webhook_deliveries_endpoint_event').on(
      table.generationId,
      table.endpointId,
      table.eventType,
    ),
    // NULLs are distinct in a unique index: the request's own URL needs its own.
    uniqueIndex('webhook_deliveries_request_event')
      .on(table.generationId, table.eventType)
      .where(sql`endpoint_id is null`),
  ],
)

/** Every attempt of a delivery: when, how long, the answer's status or the error. */
export const webhookAttempts = sqliteTable(
  'webhook_attempts',
  {
    id: text('id').primaryKey(),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    startedAt: text('started_at').notNull(),
    durationMs: real('duration_ms').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
  },
  // One row per attempt number: an attempt recorded twice is a bug the database refuses.
  (table) => [uniqueIndex('webhook_attempts_delivery').on(table.deliveryId, table.attempt)],
)

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect
