import { randomFillSync } from 'node:crypto'
import { monotonicFactory } from 'ulid'

export type Clock = { now(): Date }
export const systemClock: Clock = { now: () => new Date() }

export type IdPrefix = 'ast' | 'gen' | 'req' | 'ws' | 'key' | 'att' | 'rsv' | 'whk' | 'msg' | 'wha'

/** Random, time-ordered ids (`ast_01J9…`): sortable for keyset pagination, never guessable. */
export type IdGenerator = (prefix: IdPrefix) => string

/**
 * Cryptographic randomness drawn in 4 KiB batches: ulid asks for one byte per character, and a
 * crypto call per byte cost more than the rest of a 304 answer.
 */
export function bufferedRandom(batchBytes = 4096): () => number {
  const pool = new Uint8Array(batchBytes)
  let next = batchBytes
  return () => {
    if (next === batchBytes) {
      randomFillSync(pool)
      next = 0
    }
    return (pool[next++] as number) / 256
  }
}

export function createIdGenerator(clock: Clock = systemClock): IdGenerator {
  const ulid = monotonicFactory(bufferedRandom())
  return (prefix) => `${prefix}_${ulid(clock.now().getTime())}`
}
