/**
 * Waits `ms`, or less when `signal` aborts first. It never rejects, so the executor can cancel
 * a deadline timer without a try/catch around every wait.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

// setTimeout fires at once for delays above 2^31 − 1 ms; longer waits are chained instead.
const MAX_TIMER_MS = 2_147_483_647

export const systemSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) {
      resolve()
      return
    }
    const delay = Math.max(0, ms)
    const timer = setTimeout(elapsed, Math.min(delay, MAX_TIMER_MS))
    signal?.addEventListener('abort', stop, { once: true })

    function elapsed() {
      signal?.removeEventListener('abort', stop)
      if (delay > MAX_TIMER_MS) {
        // Never rejects (see above).
        void systemSleep(delay - MAX_TIMER_MS, signal).then(resolve)
      } else {
        resolve()
      }
    }
    function stop() {
      clearTimeout(timer)
      resolve()
    }
  })
