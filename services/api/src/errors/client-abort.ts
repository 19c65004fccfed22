/**
 * The client hung up before its request was read whole (a cancelled upload, a closed tab). Not a
 * server error: handlers.ts logs it at info and answers 499, the status proxies use for it, so
 * /metrics counts it apart from the server's own failures. Nobody reads that answer.
 */
export class ClientAbortError extends Error {
  constructor(options: { cause?: unknown } = {}) {
    super('The client closed the connection before its request was read', options)
    this.name = 'ClientAbortError'
  }
}

/** nginx's status for a request its client gave up on; never sent, only counted and logged. */
export const CLIENT_CLOSED_REQUEST = 499

/** Error codes Node gives a request body's stream when its client goes away. */
const ABORT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'])

/**
 * The request as the Node server sees it; only what tells a client's hang-up apart. Absent for
 * in-process requests.
 */
export type IncomingState = { complete?: boolean; destroyed?: boolean; aborted?: boolean }

/**
 * Whether `thrown` is the client's hang-up rather than a failure of the server: a
 * ClientAbortError, Node's own abort errors (anywhere in the cause chain), or any error while
 * the request's body had stopped arriving because its connection was gone (whatever the layer
 * reading it made of that: a truncated multipart part, a premature close).
 */
export function isClientAbort(thrown: unknown, incoming?: IncomingState): boolean {
  if (incoming && incoming.complete === false && (incoming.destroyed || incoming.aborted)) {
    return true
  }
  let current: unknown = thrown
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current instanceof ClientAbortError) {
      return true
    }
    const code = (current as NodeJS.ErrnoException).code
    if (
      code !== undefined &&
      ABORT_CODES.has(code) &&
      /aborted|premature close/i.test(current.message)
    ) {
      return true
    }
    current = current.cause
  }
  return false
}
