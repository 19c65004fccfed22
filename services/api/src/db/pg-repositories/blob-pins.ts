import type pg from 'pg'
import type { Clock } from '../../ids.ts'
import type { BlobPins, ReleasePin } from '../../storage/blob-pins.ts'
import { inPgTransaction } from '../pg-transaction.ts'

/**
 * The advisory-lock class of a digest's pin lock ("pins" in ASCII), in the two-key form, whose
 * keys never meet the one-key locks of migrations and bootstrap.
 */
export const PIN_LOCK_CLASS = 0x7069_6e73

/**
 * A minute: a crashed instance's pins stop holding their blobs within it, and a live holder,
 * renewing every third of it, keeps its pin through two missed renewals (a stalled event loop,
 * a database restart).
 */
export const DEFAULT_PIN_TTL_MS = 60_000

export type PgBlobPinsOptions = {
  /** Expiries are this clock's milliseconds: ttlMs must dwarf the clock skew between instances. */
  clock: Clock
  /** How long a pin counts after it was taken or last renewed. */
  ttlMs: number
  newId: () => string
  /** How often a held pin is renewed. Default: a third of ttlMs. */
  renewEveryMs?: number
  /**
   * A renewal or a release that failed (the database is unreachable). Neither throws: a pin
   * whose release failed expires by itself, one whose renewals fail expires with its holder's.
   */
  onError?: (error: unknown, during: 'renew' | 'release') => void
}

/** The digest's lock key: its first 32 bits. Two digests that share them share a lock, harmlessly. */
const lockKeyOf = (sha256: string) => Number.parseInt(sha256.slice(0, 8), 16) | 0

/**
 * A pin row inserted while holding the digest's lock shared: many pins can be taken at once,
 * but none while `unlessPinned` holds it exclusively. One statement, so the lock is held until
 * the row is committed.
 */
const INSERT_PIN = `INSERT INTO blob_pins (id, sha256, expires_at_ms)
  SELECT $1, $2, $3::bigint FROM (SELECT pg_advisory_xact_lock_shared($4::int, $5::int)) AS held`

const LIVE_PINS =
  'SELECT count(*)::int AS n FROM blob_pins WHERE sha256 = $1 AND expires_at_ms > $2'

/**
 * Deletes released pins in batches: a release joins the next DELETE, and the pins released
 * while one runs all go in the one after it. A request that lets go of its pin does not wait
 * for that commit (a pin held a little longer only keeps GC off its blob a little longer), and
 * under load many releases share one statement and one commit.
 */
function createReleaseBatcher(pool: pg.Pool, onError: PgBlobPinsOptions['onError']) {
  let waiting: { id: string; done: () => void }[] = []
  let running = false
  const run = async () => {
    running = true
    while (waiting.length > 0) {
      const batch = waiting
      waiting = []
      try {
        await pool.query('DELETE FROM blob_pins WHERE id = ANY($1::text[])', [
          batch.map((entry) => entry.id),
        ])
      } catch (error) {
        onError?.(error, 'release')
      }
      for (const entry of batch) {
        entry.done()
      }
    }
    running = false
  }
  return (id: string) =>
    new Promise<void>((resolve) => {
      waiting.push({ id, done: resolve })
      if (!running) {
        void run()
      }
    })
}

/**
 * Blob pins shared by every instance on one PostgreSQL database (the blob_pins table): the GC of
 * any instance sees the pins of all. Each pin is a row with an expiry, renewed on a timer while
 * held, so the pins of an instance that crashed stop counting after ttlMs and are purged.
 *
 * The race this closes: GC on instance B finds a blob old and unreferenced while an upload on
 * instance A is about to find that blob stored and reference it. B's last check and delete run
 * in `unlessPinned`, under the digest's advisory lock held exclusively; A's pin takes the same
 * lock shared. Either A's pin committed first, and B sees it and keeps the blob, or A's pin
 * waits until B's delete is done, and A then finds the blob gone and stores it again.
 */
export function createPgBlobPins(pool: pg.Pool, options: PgBlobPinsOptions): BlobPins {
  const { clock, ttlMs, newId } = options
  const renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3))
  const nowMs = () => clock.now().getTime()
  const deleteReleased = createReleaseBatcher(pool, options.onError)
  const insertPin = (id: string, sha256: string) =>
    pool.query(INSERT_PIN, [id, sha256, nowMs() + ttlMs, PIN_LOCK_CLASS, lockKeyOf(sha256)])

  return {
    async pin(sha256): Promise<ReleasePin> {
      const id = newId()
      await insertPin(id, sha256)
      let released = false
      // Renewals and the release run one after another, so a late renewal cannot re-insert a
      // pin that was just released.
      let queue: Promise<void> = Promise.resolve()
      const renew = async () => {
        const renewed = await pool.query('UPDATE blob_pins SET expires_at_ms = $2 WHERE id = $1', [
          id,
          nowMs() + ttlMs,
        ])
        // Expired and purged meanwhile (the holder could not renew in time): pinned again.
        if (renewed.rowCount === 0 && !released) {
          await insertPin(id, sha256)
        }
      }
      const timer = setInterval(() => {
        queue = queue.then(renew).catch((error: unknown) => options.onError?.(error, 'renew'))
      }, renewEveryMs)
      timer.unref()
      return async () => {
        if (released) {
          return
        }
        released = true
        clearInterval(timer)
        queue = queue.then(() => deleteReleased(id))
        await queue
      }
    },

    async count(sha256) {
      const { rows } = await pool.query<{ n: number }>(LIVE_PINS, [sha256, nowMs()])
      return rows[0]?.n ?? 0
    },

    unlessPinned: (sha256, work) =>
      inPgTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [
          PIN_LOCK_CLASS,
          lockKeyOf(sha256),
        ])
        const now = nowMs()
        await client.query('DELETE FROM blob_pins WHERE sha256 = $1 AND expires_at_ms <= $2', [
          sha256,
          now,
        ])
        const { rows } = await client.query<{ n: number }>(LIVE_PINS, [sha256, now])
        if ((rows[0]?.n ?? 0) > 0) {
          return undefined
        }
        return work()
      }),

    async purgeExpired() {
      const purged = await pool.query('DELETE FROM blob_pins WHERE expires_at_ms <= $1', [nowMs()])
      return purged.rowCount ?? 0
    },
  }
}
