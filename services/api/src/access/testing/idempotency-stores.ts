import type { IdempotencyStore } from '../idempotency-store.ts'
import { SqliteIdempotencyStore } from '../sqlite-idempotency-store.ts'
import { accessDatabase } from './access-database.ts'
import { createMemoryIdempotencyStore } from './memory-idempotency-store.ts'

/** Both stores, so every behaviour test runs against each. */
export const idempotencyStores: [name: string, create: () => IdempotencyStore][] = [
  ['memory', () => createMemoryIdempotencyStore()],
  ['sqlite', () => new SqliteIdempotencyStore(accessDatabase())],
]

/** Distinct tokens in order: tok_1, tok_2, … */
export function tokenSequence(prefix = 'tok'): () => string {
  let next = 0
  return () => {
    next += 1
    return `${prefix}_${next}`
  }
}
