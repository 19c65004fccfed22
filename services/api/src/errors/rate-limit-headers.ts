import type { PolicyState, RateLimitDecision, RateLimitUnit } from '../access/rate-limiter.ts'

/**
 * Response headers for rate limits, in the three dialects clients read:
 * - `Retry-After` (RFC 9110, integer seconds, rounded up) and `retry-after-ms` (read first by
 *   the openai SDK);
 * - the IETF draft's `RateLimit-Policy: "<name>";q=<quota>;w=<window s>` and
 *   `RateLimit: "<name>";r=<remaining>;t=<s until more quota>` (draft-ietf-httpapi-ratelimit-
 *   headers-10: `t` is when *additional* quota becomes available, which under GCRA is the next
 *   unit, so on a refusal `t` never points past `Retry-After`);
 * - OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,images}`, reset as a Go-style
 *   duration (`6m0s`, `12ms`) until the bucket is full again.
 */

/** A duration as OpenAI (and Go's time.Duration) prints it: `0s`, `12ms`, `1.5s`, `6m0s`, `1h0m0s`. */
export function formatResetDuration(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms))
  if (whole === 0) {
    return '0s'
  }
  if (whole < 1000) {
    return `${whole}ms`
  }
  const hours = Math.floor(whole / 3_600_000)
  const minutes = Math.floor((whole % 3_600_000) / 60_000)
  const seconds = `${(whole % 60_000) / 1000}s`
  if (hours > 0) {
    return `${hours}h${minutes}m${seconds}`
  }
  return minutes > 0 ? `${minutes}m${seconds}` : seconds
}

const seconds = (ms: number) => Math.ceil(ms / 1000)

/** `Retry-After` (≥ 1 s) and `retry-after-ms`; nothing when the wait is infinite. */
export function retryAfterHeaders(retryAfterMs: number): Record<string, string> {
  if (!Number.isFinite(retryAfterMs)) {
    return {}
  }
  return {
    'retry-after': String(Math.max(1, seconds(retryAfterMs))),
    'retry-after-ms': String(Math.max(0, Math.ceil(retryAfterMs))),
  }
}

const quotedNames = new Map<string, string>()

function policyName(name: string): string {
  let quoted = quotedNames.get(name)
  if (quoted === undefined) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
      throw new Error(`rate-limit policy names are lower-case tokens, got '${name}'`)
    }
    quoted = `"${name}"`
    quotedNames.set(name, quoted)
  }
  return quoted
}

/** The policy that binds for a unit: least remaining, then the longest way to full. */
function binding(policies: readonly PolicyState[], unit: RateLimitUnit): PolicyState | undefined {
  let best: PolicyState | undefined
  for (const policy of policies) {
    if (policy.unit !== unit) {
      continue
    }
    if (
      !best ||
      policy.remaining < best.remaining ||
      (policy.remaining === best.remaining && policy.resetMs > best.resetMs)
    ) {
      best = policy
    }
  }
  return best
}

/** OpenAI's names, per unit. */
const OPENAI_HEADERS = (['requests', 'images'] as const).map((unit) => ({
  unit,
  limit: `x-ratelimit-limit-${unit}`,
  remaining: `x-ratelimit-remaining-${unit}`,
  reset: `x-ratelimit-reset-${unit}`,
}))

/** Informational headers for any response that passed through the limiter. */
export function rateLimitHeaders(policies: readonly PolicyState[]): Record<string, string> {
  if (policies.length === 0) {
    return {}
  }
  let policy = ''
  let state = ''
  for (const entry of policies) {
    const separator = policy === '' ? '' : ', '
    policy += `${separator}${policyName(entry.name)};q=${entry.quota};w=${seconds(entry.windowMs)}`
    state += `${separator}${policyName(entry.name)};r=${entry.remaining};t=${seconds(entry.nextUnitMs)}`
  }
  const headers: Record<string, string> = { 'ratelimit-policy': policy, ratelimit: state }
  // One pass of string building and two of picking, no intermediate arrays: this runs on every
  // limited request.
  for (const { unit, limit, remaining, reset } of OPENAI_HEADERS) {
    const bound = binding(policies, unit)
    if (bound) {
      headers[limit] = String(bound.quota)
      headers[remaining] = String(bound.remaining)
      headers[reset] = formatResetDuration(bound.resetMs)
    }
  }
  return headers
}

/** Everything a 429 carries: the informational headers plus the retry advice. */
export function rateLimitedHeaders(decision: RateLimitDecision): Record<string, string> {
  // Added in place: spreading the two objects into a third cost more than building them.
  return Object.assign(
    rateLimitHeaders(decision.policies),
    retryAfterHeaders(decision.retryAfterMs),
  )
}
