import type { Clock } from '../ids.ts'
import {
  type GcraDecision,
  type GcraLimit,
  type GcraParams,
  gcraDecide,
  gcraParams,
} from './gcra.ts'
import { createTatTable } from './tat-table.ts'

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
  check(rules: readonly RateLimitRule[]): RateLimitDecision
  /** Drops buckets that are full again (also done automatically as the table grows). */
  sweep(): number
  readonly size: number
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

type Slot = { rule: RateLimitRule; slot: string; params: GcraParams; decision: GcraDecision }

/**
 * A rule's bucket name and GCRA parameters, worked out once per rule object: callers that keep
 * their rules (a key's request rules live as long as the key is cached) pay for them once.
 */
const compiled = new WeakMap<RateLimitRule, { slot: string; params: GcraParams }>()
function compiledRule(rule: RateLimitRule) {
  let entry = compiled.get(rule)
  if (!entry) {
    entry = { slot: `${rule.unit}\u0000${rule.bucket}`, params: gcraParams(rule) }
    compiled.set(rule, entry)
  }
  return entry
}

/** In-memory GCRA limiter for one process (the SQLite deployment runs one). */
export function createRateLimiter(options: { clock: Clock; minSweepSize?: number }): RateLimiter {
  const table = createTatTable({ minSweepSize: options.minSweepSize })
  const nowMs = () => Math.floor(options.clock.now().getTime())

  return {
    check(rules) {
      const now = nowMs()
      const slots: Slot[] = []
      let allowed = true
      for (const rule of rules) {
        const { slot, params } = compiledRule(rule)
        for (const earlier of slots) {
          if (earlier.slot === slot) {
            throw new Error('each rate-limit bucket may appear once per check')
          }
        }
        const decision = gcraDecide(table.get(slot), now, params, rule.cost)
        allowed &&= decision.allowed
        slots.push({ rule, slot, params, decision })
      }
      const policies: PolicyState[] = []
      if (allowed) {
        for (const slot of slots) {
          table.set(slot.slot, slot.decision.tat, now)
          policies.push(stateOf(slot.rule, slot.decision))
        }
        return { allowed, retryAfterMs: 0, policies }
      }
      let retryAfterMs = 0
      for (const { rule, slot, params, decision } of slots) {
        if (!decision.allowed) {
          retryAfterMs = Math.max(retryAfterMs, decision.retryAfterMs)
          policies.push(stateOf(rule, decision))
        } else {
          // Nothing was spent: report what this policy has left as things stand.
          policies.push(stateOf(rule, gcraDecide(table.get(slot), now, params, 0)))
        }
      }
      return { allowed, retryAfterMs, policies }
    },
    sweep: () => table.sweep(nowMs()),
    get size() {
      return table.size
    },
  }
}
