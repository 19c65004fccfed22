import { sql } from 'drizzle-orm'
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { workspaces } from './workspaces.ts'

/**
 * Credits (access/ledger.ts). The balance lives in `credit_accounts` next to the append-only
 * `credit_ledger`, both updated in one transaction, so a reservation is one conditional UPDATE
 * (the CHECK is the last line of defence against a negative balance) plus one INSERT. Amounts
 * are integer ledger units (access/credit-units.ts); times are ISO-8601 UTC text. The two
 * triggers that make the ledger append-only are custom SQL in the migration after this one.
 */
export const creditAccounts = sqliteTable(
  'credit_accounts',
  {
    workspaceId: text('workspace_id')
      .primaryKey()
      .references(() => workspaces.id),
    balance: integer('balance').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [check('credit_accounts_balance', sql`${table.balance} >= 0`)],
)

export const creditReservations = sqliteTable(
  'credit_reservations',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    reference: text('reference').notNull(),
    amount: integer('amount').notNull(),
    model: text('model'),
    state: text('state', { enum: ['held', 'settled', 'released'] }).notNull(),
    settledAmount: integer('settled_amount'),
    images: integer('images'),
    createdAt: text('created_at').notNull(),
    closedAt: text('closed_at'),
  },
  (table) => [
    uniqueIndex('credit_reservations_reference').on(table.reference),
    index('credit_reservations_held').on(table.createdAt).where(sql`${table.state} = 'held'`),
    index('credit_reservations_usage')
      .on(table.workspaceId, table.closedAt)
      .where(sql`${table.state} = 'settled'`),
    check('credit_reservations_amount', sql`${table.amount} >= 0`),
    check('credit_reservations_state', sql`${table.state} IN ('held', 'settled', 'released')`),
    check(
      'credit_reservations_settled_amount',
      sql`${table.settledAmount} BETWEEN 0 AND ${table.amount}`,
    ),
    check('credit_reservations_images', sql`${table.images} >= 0`),
    check(
      'credit_reservations_settled',
      sql`(${table.state} = 'settled') = (${table.settledAmount} IS NOT NULL)`,
    ),
    check('credit_reservations_open', sql`(${table.state} = 'held') = (${table.closedAt} IS NULL)`),
  ],
)

export const creditLedger = sqliteTable(
  'credit_ledger',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    kind: text('kind', { enum: ['grant', 'reserve', 'settle', 'release'] }).notNull(),
    delta: integer('delta').notNull(),
    reservationId: text('reservation_id').references(() => creditReservations.id),
    reference: text('reference'),
    model: text('model'),
    createdAt: text('created_at').notNull(),
  },
  (table) => [
    index('credit_ledger_workspace').on(table.workspaceId, table.seq),
    uniqueIndex('credit_ledger_one_reserve')
      .on(table.reservationId)
      .where(sql`${table.kind} = 'reserve'`),
    uniqueIndex('credit_ledger_one_close')
      .on(table.reservationId)
      .where(sql`${table.kind} IN ('settle', 'release')`),
    uniqueIndex('credit_ledger_grant_reference')
      .on(table.reference)
      .where(sql`${table.kind} = 'grant' AND ${table.reference} IS NOT NULL`),
    check('credit_ledger_kind', sql`${table.kind} IN ('grant', 'reserve', 'settle', 'release')`),
    check(
      'credit_ledger_grant_has_no_reservation',
      sql`(${table.kind} = 'grant') = (${table.reservationId} IS NULL)`,
    ),
    check(
      'credit_ledger_sign',
      sql`(${table.kind} IN ('grant', 'settle', 'release')) = (${table.delta} >= 0) OR ${table.delta} = 0`,
    ),
  ],
)
