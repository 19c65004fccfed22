import {
  type GcraDecision,
  type GcraLimit,
  type GcraParams,
  gcraDecide,
  gcraParams,
} from './gcra.ts'
import type { GcraBucket, GcraStore } from './gcra-store.ts'

export type RateLimitUnit = 'requests' | 'images'

/** One limit applied to one request: which bucket, its policy, and what this request costs. */
export type RateLimitRule = GcraLimit & {
  /** The policy's name in the headers, e.g. `key-requests`. */
  name: string
  /** Whose budget: `key:<id>`, `workspace:<id>`, … */
  bucket: string
  unit: RateLimitUnit
  cost: number
}

/** A policy's figures after the decision, for the response headers. */
export type PolicyState = {
  name: string
  unit: RateLimitUnit
  quota: number
  windowMs: number
  /** Whether this policy alone would have let the request through. */
  allowed: boolean
  remaining: number
  nextUnitMs: number
  resetMs: number
  /** Set on the policies that refused: how long until they would not. */
  retryAfterMs?: number
}

export type RateLimitDecision = {
  allowed: boolean
  /** 0 when allowed; the longest wait any refusing policy asks for (Infinity: never). */
  retryAfterMs: number
  policies: PolicyState[]
}

export type RateLimiter = {
  /**
   * All or nothing: the request passes only if every rule admits it, and only then is any
   * budget spent. A refused request changes nothing, so refusals cost the caller no quota.
   */
  check(rules: readonly RateLimitRule[]): Promise<RateLimitDecision>
}

function stateOf(rule: RateLimitRule, decision: GcraDecision): PolicyState {
  const state: PolicyState = {
    name: rule.name,
    unit: rule.unit,
    quota: rule.quota,
    windowMs: rule.windowMs,
    allowed: decision.allowed,
    remaining: decision.remaining,
    nextUnitMs: decision.nextUnitMs,
    resetMs: decision.resetMs,
  }
  if (!decision.allowed) {
    state.retryAfterMs = decision.retryAfterMs
  }
  return state
}

/**
 * A rule's bucket and GCRA parameters, worked out once per rule object: callers that keep
 * their rules (a key's request rules live as long as the key is cached) pay for them once.
 * The slot (`requests:key:<id>`) names the bucket in the store; a unit has no colon, so no two
 * rules' slots collide.
 */
const compiled = new WeakMap<RateLimitRule, { slot: string; params: GcraParams }>()
function compiledRule(rule: RateLimitRule) {
  let entry = compiled.get(rule)
  if (!entry) {
    entry = { slot: `${rule.unit}:${rule.bucket}`, params: gcraParams(rule) }
    compiled.set(rule, entry)
  }
  return entry
}

function bucketsOf(rules: readonly RateLimitRule[]): GcraBucket[] {
  const buckets: GcraBucket[] = []
  for (const rule of rules) {
    const { slot, params } = compiledRule(rule)
    for (const earlier of buckets) {
      if (earlier.slot === slot) {
        throw new Error('each rate-limit bucket may appear once per check')
      }
    }
    buckets.push({ slot, params, cost: rule.cost })
  }
  return buckets
}

/** GCRA over several buckets at once, on whichever store holds the TATs (gcra-store.ts). */
export function createRateLimiter(options: { store: GcraStore }): RateLimiter {
  const { store } = options
  return {
    async check(rules) {
      const buckets = bucketsOf(rules)
      const { nowMs, tats } = await store.apply(buckets, true)
      const decisions: GcraDecision[] = []
      let allowed = true
      for (const [index, bucket] of buckets.entries()) {
        const decision = gcraDecide(tats[index] as number, nowMs, bucket.params, bucket.cost)
        allowed &&= decision.allowed
        decisions.push(decision)
      }
      const policies: PolicyState[] = []
      if (allowed) {
        for (const [index, rule] of rules.entries()) {
          policies.push(stateOf(rule, decisions[index] as GcraDecision))
        }
        return { allowed, retryAfterMs: 0, policies }
      }
      let retryAfterMs = 0
      for (const [index, rule] of rules.entries()) {
        const decision = decisions[index] as GcraDecision
        if (!decision.allowed) {
          retryAfterMs = Math.max(retryAfterMs, decision.retryAfterMs)
          policies.push(stateOf(rule, decision))
        } else {
          // Nothing was spent: report what this policy has left as things stand.
          const params = (buckets[index] as GcraBucket).params
          policies.push(stateOf(rule, gcraDecide(tats[index] as number, nowMs, params, 0)))
        }
      }
      return { allowed, retryAfterMs, policies }
    },
  }
}
