import { sql } from 'drizzle-orm'
import { blob, check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { workspaces } from './workspaces.ts'

/**
 * Idempotency records (access/sqlite-idempotency-store.ts). One row per (workspace, key): the
 * composite primary key is what makes a claim exclusive, and what keeps two workspaces' keys
 * apart. Times are integer milliseconds (expiry and lease are compared, never displayed).
 */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    idempotencyKey: text('idempotency_key').notNull(),
    token: text('token').notNull(),
    fingerprint: text('fingerprint').notNull(),
    state: text('state', { enum: ['in_flight', 'completed'] }).notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    expiresAtMs: integer('expires_at_ms').notNull(),
    leaseUntilMs: integer('lease_until_ms'),
    responseStatus: integer('response_status'),
    responseHeaders: text('response_headers'),
    responseBody: blob('response_body', { mode: 'buffer' }),
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
