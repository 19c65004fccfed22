/**
 * The limiter's only state: one theoretical arrival time per bucket. A TAT at or before now
 * means a full bucket, which is exactly what an absent entry means, so such entries are dropped.
 * Sweeps run when the table has doubled since the last one: amortised O(1) per write, and the
 * table never holds more than twice its live entries (plus `minSweepSize`).
 */
export type TatTable = {
  /** The stored TAT, 0 when the bucket is unknown (full). */
  get(bucket: string): number
  set(bucket: string, tat: number, nowMs: number): void
  /** Drops every entry whose bucket is full again; answers how many went. */
  sweep(nowMs: number): number
  readonly size: number
}

export function createTatTable(options: { minSweepSize?: number } = {}): TatTable {
  const minSweepSize = options.minSweepSize ?? 1024
  const tats = new Map<string, number>()
  let sweepAt = minSweepSize

  function sweep(nowMs: number): number {
    let dropped = 0
    for (const [bucket, tat] of tats) {
      if (tat <= nowMs) {
        tats.delete(bucket)
        dropped += 1
      }
    }
    sweepAt = Math.max(minSweepSize, tats.size * 2)
    return dropped
  }

  return {
    get: (bucket) => tats.get(bucket) ?? 0,
    set(bucket, tat, nowMs) {
      if (tat <= nowMs) {
        tats.delete(bucket)
      } else {
        tats.set(bucket, tat)
      }
      if (tats.size >= sweepAt) {
        sweep(nowMs)
      }
    },
    sweep,
    get size() {
      return tats.size
    },
  }
}
