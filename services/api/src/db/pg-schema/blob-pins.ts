import { bigint, index, pgTable, text } from 'drizzle-orm/pg-core'

/**
 * Blob pins shared by every instance (db/pg-repositories/blob-pins.ts): one row per pin, held
 * by an in-flight upload or generation until its asset row is committed. A pin counts only
 * until `expires_at_ms` (its holder renews it while alive), so the pins of an instance that
 * crashed stop holding their blobs. PostgreSQL only: on SQLite one process owns the data, and
 * its pins stay in that process's memory.
 */
export const blobPins = pgTable(
  'blob_pins',
  {
    id: text('id').primaryKey(),
    sha256: text('sha256').notNull(),
    expiresAtMs: bigint('expires_at_ms', { mode: 'number' }).notNull(),
  },
  (table) => [
    index('blob_pins_sha256').on(table.sha256, table.expiresAtMs),
    // The purge of expired pins, across digests.
    index('blob_pins_expires').on(table.expiresAtMs),
  ],
)
