import type { Clock } from '../ids.ts'
import { type GcraParams, gcraDecide } from './gcra.ts'
import { createTatTable } from './tat-table.ts'

/** One bucket of one decision: where its TAT lives, its GCRA parameters, what is asked of it. */
export type GcraBucket = { slot: string; params: GcraParams; cost: number }

/** What the store saw: its clock and each bucket's TAT before the decision (0: full). */
export type GcraSnapshot = { nowMs: number; tats: number[] }

/**
 * Where the limiters keep their TATs: in this process (the embedded default) or in Redis,
 * shared by every instance (redis-gcra-store.ts). One call is one atomic step: every bucket's
 * TAT is read at one instant, and, when `spend` is set and every bucket admits its cost
 * (gcraDecide), each is advanced by its cost; otherwise nothing changes. The limiters work out
 * their decisions and headers from the snapshot with gcraDecide, so every store decides alike.
 */
export type GcraStore = {
  apply(buckets: readonly GcraBucket[], spend: boolean): Promise<GcraSnapshot>
}

export type MemoryGcraStore = GcraStore & {
  /** Drops buckets that are full again (also done automatically as the table grows). */
  sweep(): number
  readonly size: number
}

export function createMemoryGcraStore(options: {
  clock: Clock
  minSweepSize?: number
}): MemoryGcraStore {
  const table = createTatTable({ minSweepSize: options.minSweepSize })
  const nowMs = () => Math.floor(options.clock.now().getTime())
  return {
    apply(buckets, spend) {
      const now = nowMs()
      const tats: number[] = []
      let admitted = true
      for (const bucket of buckets) {
        const tat = table.get(bucket.slot)
        tats.push(tat)
        admitted &&= gcraDecide(tat, now, bucket.params, bucket.cost).allowed
      }
      if (admitted && spend) {
        for (const [index, bucket] of buckets.entries()) {
          const tat = tats[index] as number
          table.set(bucket.slot, Math.max(tat, now) + bucket.cost * bucket.params.emissionMs, now)
        }
      }
      return Promise.resolve({ nowMs: now, tats })
    },
    sweep: () => table.sweep(nowMs()),
    get size() {
      return table.size
    },
  }
}
