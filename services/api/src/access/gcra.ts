/**
 * The Generic Cell Rate Algorithm: one number per key, the theoretical
 * arrival time (TAT). With emission interval T = window / quota and room for `burst` units, a
 * request of `cost` units passes when it would not push the TAT more than T·burst past now.
 * Equivalent to a token bucket, with no refill timer and exact figures for the headers.
 */
export type GcraLimit = {
  /** Units allowed per window. */
  quota: number
  windowMs: number
  /** Units that may be spent at once; defaults to the quota (a full window's worth). */
  burst?: number
}

export type GcraParams = {
  /** T: whole milliseconds that one unit "occupies". */
  emissionMs: number
  burst: number
  /** T·burst: how far the TAT may run ahead of now. */
  capacityMs: number
}

type GcraFigures = {
  /** TAT to store (unchanged when refused). */
  tat: number
  /** Whole units that could be spent right now, after this decision. */
  remaining: number
  /** Milliseconds until one more unit becomes available (0 when the bucket is full). */
  nextUnitMs: number
  /** Milliseconds until the bucket is full again. */
  resetMs: number
}

export type GcraDecision =
  | (GcraFigures & { allowed: true })
  | (GcraFigures & {
      allowed: false
      /** Milliseconds until this request would pass; Infinity when `cost` exceeds the burst. */
      retryAfterMs: number
    })

export function gcraParams(limit: GcraLimit): GcraParams {
  const burst = limit.burst ?? limit.quota
  if (!Number.isSafeInteger(limit.quota) || limit.quota < 1) {
    throw new RangeError(`quota must be a positive integer, got ${limit.quota}`)
  }
  if (!(Number.isFinite(limit.windowMs) && limit.windowMs > 0)) {
    throw new RangeError(`windowMs must be positive, got ${limit.windowMs}`)
  }
  if (!Number.isSafeInteger(burst) || burst < 1) {
    throw new RangeError(`burst must be a positive integer, got ${burst}`)
  }
  // Rounded up to a whole millisecond so every figure below is exact integer arithmetic (no
  // boundary decided by floating-point residue); the enforced rate is never above the quota.
  const emissionMs = Math.ceil(limit.windowMs / limit.quota)
  return { emissionMs, burst, capacityMs: emissionMs * burst }
}

function figures(tat: number, nowMs: number, params: GcraParams): GcraFigures {
  const { emissionMs, burst, capacityMs } = params
  const usedMs = Math.min(capacityMs, Math.max(0, tat - nowMs))
  const freeMs = capacityMs - usedMs
  const remaining = Math.min(burst, Math.floor(freeMs / emissionMs))
  return {
    tat,
    remaining,
    nextUnitMs: remaining >= burst ? 0 : Math.max(0, (remaining + 1) * emissionMs - freeMs),
    resetMs: usedMs,
  }
}

/**
 * Decides one request of `cost` units arriving at `nowMs` (whole milliseconds) against the
 * stored `tat` (0 for a key never seen).
 */
export function gcraDecide(tat: number, nowMs: number, params: GcraParams, cost = 1): GcraDecision {
  if (!Number.isSafeInteger(cost) || cost < 0) {
    throw new RangeError(`cost must be a non-negative integer, got ${cost}`)
  }
  if (!Number.isSafeInteger(nowMs)) {
    throw new RangeError(`nowMs must be a whole number of milliseconds, got ${nowMs}`)
  }
  const newTat = Math.max(tat, nowMs) + cost * params.emissionMs
  const allowAt = newTat - params.capacityMs
  if (nowMs < allowAt) {
    return {
      allowed: false,
      ...figures(tat, nowMs, params),
      retryAfterMs: cost > params.burst ? Number.POSITIVE_INFINITY : allowAt - nowMs,
    }
  }
  return { allowed: true, ...figures(newTat, nowMs, params) }
}
