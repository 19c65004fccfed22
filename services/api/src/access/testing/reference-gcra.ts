/**
 * The textbook six-line GCRA, kept naive on purpose: the
 * model that the limiter is checked against. T = window/quota, tau = T·(burst − 1).
 */
export function referenceGcra(tat: number, now: number, T: number, tau: number) {
  const newTat = Math.max(tat, now) + T
  const allowAt = newTat - T - tau
  if (now < allowAt) {
    return { ok: false as const, tat, retryAfterMs: allowAt - now }
  }
  return { ok: true as const, tat: newTat, remaining: Math.floor((now - (newTat - T - tau)) / T) }
}
