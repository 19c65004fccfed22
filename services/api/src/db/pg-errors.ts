/**
 * Whether a failed PostgreSQL call means the database cannot be reached right now (refused or
 * broken connections, a server shutting down or starting up, no free connection in time), as
 * opposed to a statement the database refused. The first is a 503 a client may retry once the
 * database is back; the second is a defect, a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Drizzle wraps the driver's error (DrizzleQueryError, its `cause`); so may any caller.
  for (let at = error, depth = 0; depth < 5; depth += 1) {
    if (isUnavailable(at)) {
      return true
    }
    if (typeof at !== 'object' || at === null || !('cause' in at)) {
      return false
    }
    at = (at as { cause?: unknown }).cause
  }
  return false
}

function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false
  }
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08')) {
      return true
    }
  }
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.some((text) => message.includes(text))
}

/** Socket errors pg passes through from the connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/**
 * SQLSTATEs of a server going away or not yet there (class 08, connection exception, is
 * matched by its prefix): admin_shutdown, crash_shutdown, cannot_connect_now,
 * too_many_connections, and a hot standby's conflict-free cancellation by shutdown.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300'])

/** What pg and pg-pool say, without a code, when a connection ends or cannot be had in time. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Cannot use a pool after calling end on the pool',
]
