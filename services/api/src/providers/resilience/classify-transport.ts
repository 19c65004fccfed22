/**
 * Whether a fetch failure happened before the request left (safe to retry) or may have happened
 * after the body was sent (ambiguous). Node's fetch wraps the socket error in `cause`, and
 * Happy Eyeballs connects wrap one error per address in an AggregateError's `errors`.
 */
const NOT_SENT_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  // undici refuses to dispatch on a client that is already closed.
  'UND_ERR_CLOSED',
])
/** System errors raised while resolving or connecting, before a byte of the request was written. */
const NOT_SENT_SYSCALLS = new Set(['getaddrinfo', 'connect'])

export function classifyTransportError(error: unknown): 'not_sent' | 'ambiguous' {
  // A reset, a headers/body timeout or anything unknown: the provider may have started work.
  return wasNeverSent(error, 0) ? 'not_sent' : 'ambiguous'
}

function wasNeverSent(error: unknown, depth: number): boolean {
  // Bounded so a cyclic cause chain cannot recurse forever.
  if (depth > 5 || typeof error !== 'object' || error === null) {
    return false
  }
  const { code, syscall, cause, errors } = error as {
    code?: unknown
    syscall?: unknown
    cause?: unknown
    errors?: unknown
  }
  if (typeof code === 'string' && (NOT_SENT_CODES.has(code) || isTlsFailure(code))) {
    return true
  }
  if (typeof syscall === 'string' && NOT_SENT_SYSCALLS.has(syscall)) {
    return true
  }
  if (Array.isArray(errors) && errors.some((inner) => wasNeverSent(inner, depth + 1))) {
    return true
  }
  return wasNeverSent(cause, depth + 1)
}

/** Certificate and handshake failures: the connection never became usable for the request. */
function isTlsFailure(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('CERT_') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
  )
}
