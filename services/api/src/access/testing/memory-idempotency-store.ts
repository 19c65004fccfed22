import {
  type IdempotencyRecord,
  type IdempotencyScope,
  type IdempotencyStore,
  type InFlightRecord,
  planClaim,
  type StoredResponse,
} from '../idempotency-store.ts'

const slot = (scope: IdempotencyScope) => `${scope.workspaceId}\u0000${scope.key}`

const copyResponse = (response: StoredResponse): StoredResponse => ({
  status: response.status,
  headers: response.headers.map(([name, value]) => [name, value]),
  body: Uint8Array.from(response.body),
})

/**
 * For tests and single-process use without persistence. JavaScript runs each synchronous method
 * to completion, which makes every method atomic; `transaction` just runs its work.
 */
export function createMemoryIdempotencyStore(): IdempotencyStore & { readonly size: number } {
  const records = new Map<string, IdempotencyRecord>()

  const owned = (scope: IdempotencyScope, token: string) => {
    const record = records.get(slot(scope))
    return record?.state === 'in_flight' && record.token === token ? record : undefined
  }

  return {
    claim(scope, attempt) {
      const existing = records.get(slot(scope))
      const plan = planClaim(existing, attempt)
      if (plan === 'blocked' && existing) {
        return { claimed: false, record: existing }
      }
      const record: InFlightRecord = {
        state: 'in_flight',
        token: attempt.token,
        fingerprint: attempt.fingerprint,
        createdAtMs: plan === 'take_over' && existing ? existing.createdAtMs : attempt.nowMs,
        expiresAtMs: attempt.expiresAtMs,
        leaseUntilMs: attempt.leaseUntilMs,
      }
      records.set(slot(scope), record)
      return plan === 'take_over' && existing
        ? { claimed: true, record, superseded: existing.token }
        : { claimed: true, record }
    },
    complete(scope, token, response, expiresAtMs) {
      const record = owned(scope, token)
      if (!record) {
        return false
      }
      records.set(slot(scope), {
        state: 'completed',
        token,
        fingerprint: record.fingerprint,
        createdAtMs: record.createdAtMs,
        expiresAtMs,
        response: copyResponse(response),
      })
      return true
    },
    release(scope, token) {
      return owned(scope, token) ? records.delete(slot(scope)) : false
    },
    get(scope) {
      const record = records.get(slot(scope))
      return record?.state === 'completed'
        ? { ...record, response: copyResponse(record.response) }
        : record
    },
    purgeExpired(nowMs) {
      let purged = 0
      for (const [key, record] of records) {
        if (record.expiresAtMs <= nowMs) {
          records.delete(key)
          purged += 1
        }
      }
      return purged
    },
    transaction: (work) => work(),
    get size() {
      return records.size
    },
  }
}
