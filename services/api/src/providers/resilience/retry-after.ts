import { parseHttpDate } from './http-date.ts'

/** What `Headers` offers; a plain object with a `get` works in tests. */
export type HeaderReader = { get(name: string): string | null }

/**
 * The upstream's advised wait in milliseconds, or undefined when there is no usable advice and
 * the caller should fall back to its own backoff. `retry-after-ms` (OpenAI, Azure) is read
 * first because it is more precise — openai-node does the same. Values are rounded up so we
 * never come back earlier than asked. A date already in the past means "now" (0).
 */
export function parseRetryAfter(headers: HeaderReader, now: Date): number | undefined {
  return (
    parseRetryAfterMs(headers.get('retry-after-ms')) ??
    parseRetryAfterValue(headers.get('retry-after'), now)
  )
}

/** `retry-after-ms`: a non-negative number of milliseconds, fractions allowed. */
export function parseRetryAfterMs(value: string | null | undefined): number | undefined {
  const text = value?.trim()
  if (!text || !/^\d+(\.\d+)?$/.test(text)) {
    return undefined
  }
  return finite(Math.ceil(Number(text)))
}

/** `Retry-After` (RFC 9110 §10.2.3): delay-seconds (a non-negative integer) or an HTTP-date. */
export function parseRetryAfterValue(
  value: string | null | undefined,
  now: Date,
): number | undefined {
  const text = value?.trim()
  if (!text) {
    return undefined
  }
  if (/^\d+$/.test(text)) {
    return finite(Number(text) * 1_000)
  }
  const at = parseHttpDate(text, now)
  return at === undefined ? undefined : Math.max(0, at - now.getTime())
}

function finite(ms: number): number | undefined {
  return Number.isSafeInteger(ms) ? ms : undefined
}
