import { monotonicFactory } from 'ulid'

export type Clock = { now(): Date }
export const systemClock: Clock = { now: () => new Date() }

export type IdPrefix = 'ast' | 'gen' | 'req' | 'ws' | 'key' | 'att'

/** Random, time-ordered ids (`ast_01J9…`): sortable for keyset pagination, never guessable. */
export type IdGenerator = (prefix: IdPrefix) => string

export function createIdGenerator(clock: Clock = systemClock): IdGenerator {
  const ulid = monotonicFactory()
  return (prefix) => `${prefix}_${ulid(clock.now().getTime())}`
}
