import type { ReservationClose } from './ledger-types.ts'

/** Idempotency records are scoped per workspace (IETF draft §7: a composite lookup key). */
export type IdempotencyScope = { workspaceId: string; key: string }

/** A response exactly as first sent, replayed byte for byte. */
export type StoredResponse = { status: number; headers: [string, string][]; body: Uint8Array }

type RecordBase = {
  /** The attempt that owns (or owned) the key; each claim or take-over gets a fresh one. */
  token: string
  fingerprint: string
  createdAtMs: number
  /** After this the record is gone for every purpose: the key is new again. */
  expiresAtMs: number
}

export type InFlightRecord = RecordBase & { state: 'in_flight'; leaseUntilMs: number }
export type CompletedRecord = RecordBase & { state: 'completed'; response: StoredResponse }
export type IdempotencyRecord = InFlightRecord | CompletedRecord

export type ClaimAttempt = {
  token: string
  fingerprint: string
  nowMs: number
  leaseUntilMs: number
  expiresAtMs: number
}

export type ClaimResult =
  | {
      claimed: true
      record: InFlightRecord
      /** The token of an earlier attempt whose lease ran out (a crash mid-flight). */
      superseded?: string
    }
  | { claimed: false; record: IdempotencyRecord }

/**
 * Where idempotency records live: the port every backend implements (sqlite-idempotency-store.ts,
 * pg-idempotency-store.ts). Every method is atomic on its own, across processes too. A
 * completion or release can carry a ReservationClose: the ledger settles or releases that
 * reservation in the same commit, and only if the record was still owned, so "answer kept" and
 * "credits moved" can never disagree.
 */
export interface IdempotencyStore {
  /** Claims the key unless a live record stands (decided by `planClaim`), atomically. */
  claim(scope: IdempotencyScope, attempt: ClaimAttempt): Promise<ClaimResult>
  /** Stores the response if `token` still owns the in-flight record; false otherwise. */
  complete(
    scope: IdempotencyScope,
    token: string,
    response: StoredResponse,
    expiresAtMs: number,
    reservation?: ReservationClose,
  ): Promise<boolean>
  /** Deletes the in-flight record if `token` still owns it, so the key can run again. */
  release(scope: IdempotencyScope, token: string, reservation?: ReservationClose): Promise<boolean>
  get(scope: IdempotencyScope): Promise<IdempotencyRecord | undefined>
  /** Deletes records whose expiry has passed; answers how many. */
  purgeExpired(nowMs: number): Promise<number>
}

export type ClaimPlan = 'insert' | 'replace' | 'take_over' | 'blocked'

/**
 * The one rule both stores apply inside their atomic claim:
 * - nothing stands → insert;
 * - the record expired (24 h) → replace it: the key is new again;
 * - an in-flight record whose lease ran out, for the same request → take it over (the first
 *   attempt crashed; a lease is never a stuck key);
 * - anything else blocks: replay, 409 or 422, decided by the caller from the record.
 */
export function planClaim(
  existing: IdempotencyRecord | undefined,
  attempt: ClaimAttempt,
): ClaimPlan {
  if (!existing) {
    return 'insert'
  }
  if (existing.expiresAtMs <= attempt.nowMs) {
    return 'replace'
  }
  if (
    existing.state === 'in_flight' &&
    existing.leaseUntilMs <= attempt.nowMs &&
    existing.fingerprint === attempt.fingerprint
  ) {
    return 'take_over'
  }
  return 'blocked'
}
