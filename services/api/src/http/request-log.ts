import type { Logger } from 'pino'

/**
 * A child logger bound to `bindings`, made on first use. Most requests never log (the access
 * line is written only at info), and a pino child costs more to make than the rest of a refused
 * request spends in imagegate's middleware: its bindings are serialized and its level methods
 * built up front. The returned logger behaves as the child in every way once it is used.
 */
export function lazyChildLogger(base: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined
  const materialize = () => {
    child ??= base.child(bindings)
    return child
  }
  return new Proxy(base, {
    get(_target, property) {
      const logger = materialize()
      const value: unknown = Reflect.get(logger, property, logger)
      return typeof value === 'function' ? value.bind(logger) : value
    },
    set(_target, property, value: unknown) {
      return Reflect.set(materialize(), property, value)
    },
  })
}
