/** Uniform in [0, 1), like Math.random; injected so tests can seed it. */
export type Random = () => number

export type BackoffOptions = { baseMs: number; capMs: number }

/** §4.2: base 250–500 ms, cap 8–20 s; the low ends keep a 3-attempt request inside a client timeout. */
export const defaultBackoff: BackoffOptions = { baseMs: 500, capMs: 8_000 }

/**
 * The longest wait before retry number `retry` (0 for the first retry): min(cap, base·2^retry).
 */
export function backoffCeiling(retry: number, options: Partial<BackoffOptions> = {}): number {
  const { baseMs, capMs } = { ...defaultBackoff, ...options }
  if (!Number.isInteger(retry) || retry < 0) {
    throw new RangeError(`retry must be a non-negative integer, got ${retry}`)
  }
  if (!(baseMs >= 0 && capMs >= 0 && Number.isFinite(baseMs) && Number.isFinite(capMs))) {
    throw new RangeError(`backoff base and cap must be finite and non-negative`)
  }
  // The exponent is clamped so base·2^retry stays finite (and 0·∞ never yields NaN).
  return Math.min(capMs, baseMs * 2 ** Math.min(retry, 64))
}

/**
 * Full jitter (Brooker, "Exponential Backoff and Jitter", AWS 2015): a uniform wait in
 * [0, ceiling). Capped exponential backoff alone keeps clients that failed together in
 * lock-step, so they hit a recovering upstream at the same instant; spreading each wait over
 * the whole interval breaks the herd and, in Brooker's simulation, minimises total work.
 */
export function fullJitterDelay(
  retry: number,
  random: Random,
  options: Partial<BackoffOptions> = {},
): number {
  return random() * backoffCeiling(retry, options)
}
