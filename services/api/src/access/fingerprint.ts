import { createHash } from 'node:crypto'

/**
 * JSON with object keys sorted (by UTF-16 code unit, as RFC 8785 does) at every depth, so two
 * bodies that differ only in key order or whitespace fingerprint the same.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value)
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new TypeError(`JSON has no ${value}`)
    }
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`)
    return `{${entries.join(',')}}`
  }
  throw new TypeError(`cannot fingerprint a ${typeof value}`)
}

export type FingerprintInput = {
  method: string
  /** The concrete path (ids included), so the same key on another resource is a different request. */
  route: string
} & (
  | { body: unknown }
  /** For multipart bodies: a digest of the bytes (e.g. the verified x-content-sha256) and fields. */
  | { bodyDigest: string }
)

/** sha256 hex of method, route and the canonical body (or the given body digest). */
export function requestFingerprint(input: FingerprintInput): string {
  const payload =
    'bodyDigest' in input ? `digest:${input.bodyDigest}` : `json:${canonicalJson(input.body)}`
  return createHash('sha256')
    .update(`${input.method.toUpperCase()} ${input.route}\n${payload}`, 'utf8')
    .digest('hex')
}
