import { sql } from 'drizzle-orm'
import { bigint, check, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { bytea } from './columns.ts'
import { workspaces } from './workspaces.ts'

/**
 * The PostgreSQL twin of schema/idempotency.ts: the composite primary key makes a claim
 * exclusive per workspace. Times are integer milliseconds, so 64-bit here.
 */
const milliseconds = (name: string) => bigint(name, { mode: 'number' })

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    idempotencyKey: text('idempotency_key').notNull(),
    token: text('token').notNull(),
    fingerprint: text('fingerprint').notNull(),
    state: text('state', { enum: ['in_flight', 'completed'] }).notNull(),
    createdAtMs: milliseconds('created_at_ms').notNull(),
    expiresAtMs: milliseconds('expires_at_ms').notNull(),
    leaseUntilMs: milliseconds('lease_until_ms'),
    responseStatus: integer('response_status'),
    responseHeaders: text('response_headers'),
    responseBody: bytea('response_body'),
  },
  (table) => [
    primaryKey({ columns: [table.workspaceId, table.idempotencyKey] }),
    index('idempotency_keys_expiry').on(table.expiresAtMs),
    check('idempotency_keys_state', sql`${table.state} IN ('in_flight', 'completed')`),
    check(
      'idempotency_keys_lease',
      sql`(${table.state} = 'in_flight') = (${table.leaseUntilMs} IS NOT NULL)`,
    ),
    check(
      'idempotency_keys_response',
      sql`(${table.state} = 'completed') = (${table.responseStatus} IS NOT NULL AND ${table.responseBody} IS NOT NULL)`,
    ),
  ],
)
