import { backoffCeiling, type Random } from '../providers/resilience/backoff.ts'

/** How long a delivery keeps being retried, from the moment it was written. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 60 * 60 * 1000

/** The first retry's ceiling; each later one doubles, up to the cap. */
export const WEBHOOK_RETRY_BASE_MS = 5_000
export const WEBHOOK_RETRY_CAP_MS = 2 * 60 * 60 * 1000

/**
 * The wait before retry number `retry` (0: the retry after the first attempt): exponential from
 * 5 s, capped at 2 h, with equal jitter (half the ceiling fixed, half random). Full jitter could
 * retry a failing receiver at once; half the ceiling keeps the schedule exponential while still
 * spreading the deliveries of one outage apart. About 27 attempts fit into the 24 h window
 * (eleven up to the cap, then one every 1–2 h).
 */
export function webhookRetryDelay(retry: number, random: Random): number {
  const ceiling = backoffCeiling(retry, {
    baseMs: WEBHOOK_RETRY_BASE_MS,
    capMs: WEBHOOK_RETRY_CAP_MS,
  })
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/**
 * When to try a failed delivery next, or undefined when it has had its 24 h: `attempts` is the
 * number made so far (the one that just failed included).
 */
export function nextAttemptAt(
  createdAtMs: number,
  attempts: number,
  nowMs: number,
  random: Random,
): number | undefined {
  const at = nowMs + webhookRetryDelay(attempts - 1, random)
  return at <= createdAtMs + WEBHOOK_RETRY_WINDOW_MS ? at : undefined
}
