import { sql } from 'drizzle-orm'
import { bigint, check, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { workspaces } from './workspaces.ts'

/**
 * The PostgreSQL twin of schema/credits.ts, constraints and all. Amounts are 64-bit, as
 * SQLite's integers are: a balance in ledger units (1000 per credit) passes 2^31 at about
 * 21,000 dollars. The append-only triggers are custom SQL in the migration after this one.
 */
const units = (name: string) => bigint(name, { mode: 'number' })

export const creditAccounts = pgTable(
  'credit_accounts',
  {
    workspaceId: text('workspace_id')
      .primaryKey()
      .references(() => workspaces.id),
    balance: units('balance').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [check('credit_accounts_balance', sql`${table.balance} >= 0`)],
)

export const creditReservations = pgTable(
  'credit_reservations',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    reference: text('reference').notNull(),
    amount: units('amount').notNull(),
    model: text('model'),
    state: text('state', { enum: ['held', 'settled', 'released'] }).notNull(),
    settledAmount: units('settled_amount'),
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

export const creditLedger = pgTable(
  'credit_ledger',
  {
    // SQLite's AUTOINCREMENT: ever increasing, never reused.
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    kind: text('kind', { enum: ['grant', 'reserve', 'settle', 'release'] }).notNull(),
    delta: units('delta').notNull(),
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
