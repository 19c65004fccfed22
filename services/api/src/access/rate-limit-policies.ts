import type { RateLimitRule } from './rate-limiter.ts'

/** Per-minute limits of a key or a workspace; null switches that limit off. */
export type RateLimits = {
  requestsPerMinute: number | null
  imagesPerMinute: number | null
}

/** Defaults for keys created without explicit limits, and for every workspace. */
export const DEFAULT_KEY_LIMITS: RateLimits = { requestsPerMinute: 60, imagesPerMinute: 30 }
export const DEFAULT_WORKSPACE_LIMITS: RateLimits = { requestsPerMinute: 600, imagesPerMinute: 300 }

const MINUTE_MS = 60_000

export type RateLimitSubject = {
  keyId: string
  workspaceId: string
  keyLimits: RateLimits
  workspaceLimits: RateLimits
}

/** The rules every authenticated request passes: one request against the key and its workspace. */
export function requestRules(subject: RateLimitSubject): RateLimitRule[] {
  return rules(subject, 'requests', 1)
}

/** The rules a generation passes once its image count `n` is known: n units, key and workspace. */
export function imageRules(subject: RateLimitSubject, images: number): RateLimitRule[] {
  return rules(subject, 'images', images)
}

function rules(
  subject: RateLimitSubject,
  unit: 'requests' | 'images',
  cost: number,
): RateLimitRule[] {
  const field = unit === 'requests' ? 'requestsPerMinute' : 'imagesPerMinute'
  const out: RateLimitRule[] = []
  const key = subject.keyLimits[field]
  if (key !== null) {
    out.push({
      name: `key-${unit}`,
      bucket: `key:${subject.keyId}`,
      unit,
      quota: key,
      windowMs: MINUTE_MS,
      cost,
    })
  }
  const workspace = subject.workspaceLimits[field]
  if (workspace !== null) {
    out.push({
      name: `workspace-${unit}`,
      bucket: `workspace:${subject.workspaceId}`,
      unit,
      quota: workspace,
      windowMs: MINUTE_MS,
      cost,
    })
  }
  return out
}
