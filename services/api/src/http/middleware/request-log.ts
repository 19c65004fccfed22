import type { Logger } from 'pino'

/**
 * A child logger bound to `bindings`, made on first use. Most requests never log (the access
 * line is written only at info), and a pino child costs more to make than the rest of a refused
 * request spends in imagegate's middleware: its bindings are serialized and its level methods
 * built up front. The returned logger behaves as the child in every way once it is used.
 */
export function lazyChildLogger(base: Logger, bindings: Record<string, unknown>): Logger {
  return new Proxy<LazyChild>({ base, bindings }, lazyChildHandler) as unknown as Logger
}

type LazyChild = { base: Logger; bindings: Record<string, unknown>; child?: Logger }

function materialize(lazy: LazyChild): Logger {
  lazy.child ??= lazy.base.child(lazy.bindings)
  return lazy.child
}

/** One handler for every request's logger: no functions are made per request. */
const lazyChildHandler: ProxyHandler<LazyChild> = {
  get(lazy, property) {
    const logger = materialize(lazy)
    const value: unknown = Reflect.get(logger, property, logger)
    return typeof value === 'function' ? value.bind(logger) : value
  },
  set(lazy, property, value: unknown) {
    return Reflect.set(materialize(lazy), property, value)
  },
}

/** What hono/request-id accepted as a caller's request id: word characters, `-` and `=`. */
const REQUEST_ID = /^[\w\-=]+$/

/** The caller's own X-Request-Id when it is a sane token, else a new one. */
export function requestIdFor(given: string | undefined, newId: () => string): string {
  return given !== undefined && given !== '' && given.length <= 255 && REQUEST_ID.test(given)
    ? given
    : newId()
}

/** The access line of one answered request (written at info). */
export function logRequestLine(
  log: Logger,
  line: { method: string; path: string; status: number },
  startedMs: number,
): void {
  log.info(
    { ...line, durationMs: Math.round((performance.now() - startedMs) * 100) / 100 },
    'request',
  )
}
