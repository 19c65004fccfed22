import type { Clock } from '../../../ids.ts'

/** A clock that moves only when a test says so. */
export type ManualClock = Clock & { ms(): number; advance(ms: number): void; set(ms: number): void }

export function manualClock(startMs = 1_700_000_000_000): ManualClock {
  let now = startMs
  return {
    now: () => new Date(now),
    ms: () => now,
    advance(ms) {
      now += ms
    },
    set(ms) {
      now = ms
    },
  }
}
