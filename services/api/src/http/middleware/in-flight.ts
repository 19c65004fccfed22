import type { MiddlewareHandler } from 'hono'

/**
 * The requests whose handler is still running, whether or not their client is still connected:
 * a generation whose caller hung up goes on to completion, because it is paid for. A server
 * that stops waits for these, not only for its open connections.
 */
export function createInFlightRequests() {
  let running = 0
  let waiting: (() => void)[] = []

  function finished() {
    running--
    if (running === 0 && waiting.length > 0) {
      const resolved = waiting
      waiting = []
      for (const resolve of resolved) {
        resolve()
      }
    }
  }

  const middleware: MiddlewareHandler = async (_c, next) => {
    running++
    try {
      await next()
    } finally {
      finished()
    }
  }

  return {
    middleware,
    /**
     * Counts `work` as a running handler until it settles: the part of an answer that goes on
     * after its handler returned (a streamed generation).
     */
    track(work: Promise<unknown>): void {
      running++
      work.then(finished, finished)
    },
    /** How many handlers are running now. */
    get size() {
      return running
    },
    /** Resolves once no handler is running (at once if none is). */
    idle(): Promise<void> {
      return running === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve))
    },
  }
}

export type InFlightRequests = ReturnType<typeof createInFlightRequests>
