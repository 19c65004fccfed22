import type { UpstreamFailure, UpstreamFailureKind } from '../types.ts'

export type RetryRule = {
  /** Whether the executor may send the same request again. */
  retry: boolean
  /** Whether the failure says the provider is down, so it counts toward opening the breaker. */
  providerDown: boolean
  why: string
}

/**
 * Image generation is billed and not idempotent upstream, so a failure is
 * retried only when the provider cannot have done the work.
 */
export const retryPolicy = {
  not_sent: {
    retry: true,
    providerDown: true,
    why: 'the request never left (DNS, refused, TLS): nothing can have been billed',
  },
  rate_limited: {
    retry: true,
    providerDown: false,
    why: 'the provider refused to process it; it is up and asks us to come back later',
  },
  unavailable: {
    retry: true,
    providerDown: true,
    why: '502/503/504 (and 408/409): not processed, the provider or its proxy is struggling',
  },
  ambiguous: {
    retry: false,
    providerDown: true,
    why: 'a 500 or a reset after the body was sent may have been processed and billed; a blind replay can double-charge',
  },
  timeout: {
    retry: false,
    providerDown: true,
    why: 'the request deadline passed, so there is no time left for another attempt',
  },
  rejected: {
    retry: false,
    providerDown: false,
    why: 'the request itself is wrong; sending it again gets the same answer',
  },
  auth: {
    retry: false,
    providerDown: false,
    why: 'the operator key is wrong or lacks access; retrying cannot fix configuration',
  },
  content_policy: {
    retry: false,
    providerDown: false,
    why: 'a safety refusal is a verdict on the prompt or image, not a transient fault',
  },
  quota: {
    retry: false,
    providerDown: false,
    why: 'the operator is out of upstream quota or credit; retries only add load until someone pays',
  },
  bad_response: {
    retry: false,
    providerDown: false,
    why: 'a malformed or truncated 200 was processed and billed upstream; a replay pays twice',
  },
} as const satisfies Record<UpstreamFailureKind, RetryRule>

export function isRetryable(failure: Pick<UpstreamFailure, 'kind'>): boolean {
  return retryPolicy[failure.kind].retry
}

export function isProviderDown(kind: UpstreamFailureKind): boolean {
  return retryPolicy[kind].providerDown
}

// OpenAI sends "out of credit" as 429 insufficient_quota or 400 billing_hard_limit_reached,
// never 402, so the code must win over the status.
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached'])
const CONTENT_POLICY_CODES = new Set(['content_policy_violation', 'moderation_blocked'])
/** Answers that never reached the application behind the proxy (Cloudflare 521–523, 529 overloaded). */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504, 521, 522, 523, 529])

/**
 * The failure kind for a non-success HTTP answer, for adapters to reuse. `upstreamCode` is the
 * provider's machine code (OpenAI `error.code`, Gemini `error.status`), compared case-insensitively.
 *
 * Decisions beyond the obvious:
 * - 408: the server gave up waiting for the complete request, so it did not process it → unavailable.
 * - 409: openai-node retries it as a lock timeout; the conflicting request was not applied, so a
 *   replay cannot double-charge → unavailable.
 * - 504: §4.2 treats a gateway timeout as "not processed". A slow image model behind a proxy
 *   chain may in fact have finished; the policy accepts that risk for 504 only.
 * - 521/522/523 (Cloudflare: origin down, connection to it timed out, unreachable) → unavailable:
 *   the proxy never got a connection to the origin, so the request never reached it.
 * - 529 (overloaded) → unavailable: like 503, a refusal before any work.
 * - Other 5xx (500, 520, 524, …) → ambiguous: the work may have run. 524 in particular is the
 *   proxy giving up on an origin that had the request and was still working on it.
 * - 501/505 → rejected: the server does not support the method or HTTP version and never will
 *   for this request; nothing transient about it, so no retry and no breaker count.
 * - Below 400 → bad_response: the adapter got an answer it cannot use.
 */
export function classifyHttpStatus(status: number, upstreamCode?: string): UpstreamFailureKind {
  const code = upstreamCode?.toLowerCase()
  if (code && QUOTA_CODES.has(code)) {
    return 'quota'
  }
  if (code && CONTENT_POLICY_CODES.has(code)) {
    return 'content_policy'
  }
  if (status < 400) {
    return 'bad_response'
  }
  if (status === 401 || status === 403) {
    return 'auth'
  }
  if (status === 402) {
    return 'quota'
  }
  if (status === 408 || status === 409) {
    return 'unavailable'
  }
  if (status === 429) {
    return 'rate_limited'
  }
  if (status < 500) {
    return 'rejected'
  }
  if (UNAVAILABLE_STATUSES.has(status)) {
    return 'unavailable'
  }
  if (status === 501 || status === 505) {
    return 'rejected'
  }
  return 'ambiguous'
}
