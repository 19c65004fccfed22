import type { AuthFailureLimiter } from './auth-failures.ts'

/** What the key of a request says, with the lock-out of its address applied. */
export type Authentication<Principal> =
  | { ok: true; principal: Principal }
  /** No usable key (missing, malformed, bad checksum, unknown, revoked): a 401, counted. */
  | { ok: false; locked: false }
  /** No usable key, from an address out of failures: a 429, not counted. */
  | { ok: false; locked: true; retryAfterMs: number }

/**
 * The lock-out rule. The key is looked at first: a bad checksum costs nothing, any other key
 * one sha256 and one lookup (an in-memory cache, else a unique index), the same bounded work
 * whether the address is throttled or not. A valid key is served whatever its address did, so
 * a misconfigured client or an attacker sharing an address (a NAT, a node, a proxy, one host's
 * agents) cannot lock out the keys behind it; it answers to its key's and workspace's own limits.
 * Only a request without a usable key asks after its address: throttled, it is refused with 429
 * and not counted (waiting lifts the lock-out); otherwise it is a 401 and one failure.
 *
 * A success resets nothing. The failure budget refills only with time, because anyone holding
 * one valid key (their own, on a shared gateway) could otherwise send it between guesses to
 * earn a fresh budget each time, and guess without limit. Good keys need no reset: a throttled
 * address never stood in their way.
 *
 * `address` is asked only for a failure: resolving it may read forwarding headers.
 */
export async function authenticateWithLockout<Principal>(
  authenticate: (authorization: string | undefined) => Promise<Principal | undefined>,
  failures: AuthFailureLimiter,
  request: { authorization: string | undefined; address: () => string | undefined },
): Promise<Authentication<Principal>> {
  const principal = await authenticate(request.authorization)
  if (principal !== undefined) {
    return { ok: true, principal }
  }
  const address = request.address()
  const lockout = await failures.check(address)
  if (lockout.locked) {
    return { ok: false, locked: true, retryAfterMs: lockout.retryAfterMs }
  }
  await failures.recordFailure(address)
  return { ok: false, locked: false }
}
