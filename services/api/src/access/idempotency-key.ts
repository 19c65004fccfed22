/**
 * The `Idempotency-Key` header. The IETF draft makes it a Structured Field String (quoted:
 * `"8e03978e-…"`); Stripe and most SDKs send it bare. Both forms name the same key. A key is
 * 1..255 printable ASCII characters (Stripe's limit), after unquoting.
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255

export type IdempotencyKeyProblem = 'empty' | 'too_long' | 'invalid_characters' | 'malformed_string'

export type ParsedIdempotencyKey =
  | { ok: true; key: string }
  | { ok: false; problem: IdempotencyKeyProblem; message: string }

const PRINTABLE = /^[\x20-\x7e]*$/

const messages: Record<IdempotencyKeyProblem, string> = {
  empty: 'The Idempotency-Key header is empty',
  too_long: `The Idempotency-Key header is longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
  invalid_characters: 'The Idempotency-Key header may hold printable ASCII characters only',
  malformed_string: 'The Idempotency-Key header is not a well-formed quoted string',
}

const problem = (kind: IdempotencyKeyProblem): ParsedIdempotencyKey => ({
  ok: false,
  problem: kind,
  message: messages[kind],
})

/** RFC 9651 §4.2.5: `"` … `"` with only `\"` and `\\` escapes. */
function unquote(value: string): string | undefined {
  let out = ''
  for (let index = 1; index < value.length - 1; index += 1) {
    const char = value.charAt(index)
    if (char === '\\') {
      index += 1
      const escaped = value.charAt(index)
      if ((escaped !== '"' && escaped !== '\\') || index >= value.length - 1) {
        return undefined
      }
      out += escaped
    } else if (char === '"') {
      return undefined
    } else {
      out += char
    }
  }
  return out
}

export function parseIdempotencyKey(header: string): ParsedIdempotencyKey {
  const value = header.replace(/^[ \t]+|[ \t]+$/g, '')
  if (!PRINTABLE.test(value)) {
    return problem('invalid_characters')
  }
  let key = value
  if (value.startsWith('"')) {
    if (value.length < 2 || !value.endsWith('"')) {
      return problem('malformed_string')
    }
    const unquoted = unquote(value)
    if (unquoted === undefined) {
      return problem('malformed_string')
    }
    key = unquoted
  }
  if (key.length === 0) {
    return problem('empty')
  }
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return problem('too_long')
  }
  return { ok: true, key }
}
