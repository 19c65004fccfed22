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
