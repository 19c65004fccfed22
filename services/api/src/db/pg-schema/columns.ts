import { customType } from 'drizzle-orm/pg-core'

/**
 * Raw bytes (`bytea`), read and written as Buffers like better-sqlite3's `blob` in buffer mode.
 * pg-core has no built-in bytea column; node-postgres already maps bytea to and from Buffer.
 */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType() {
    return 'bytea'
  },
})

/**
 * Text that sorts and compares byte by byte (`COLLATE "C"`), as SQLite compares all text, for
 * the columns a keyset page or a prefix range orders by: pages and ranges then mean the same
 * on both backends whatever collation the database was created with. A `COLLATE "C"` in the
 * query instead would stop the column's indexes from serving the order (every page would sort
 * all of a workspace's rows). pg-core has no column collation of its own.
 */
export const byteOrderedText = customType<{ data: string; driverData: string }>({
  dataType() {
    return 'text COLLATE "C"'
  },
})
