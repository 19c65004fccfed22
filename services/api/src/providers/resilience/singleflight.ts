/**
 * In-process request coalescing after Go's `x/sync/singleflight`:
 * concurrent callers with the same key share one execution and its result or error. The key is
 * forgotten as soon as the call settles, so a later caller starts afresh — this is not a cache.
 * Memory only: across restarts the SQLite claim row stays the source of truth.
 */
export type Singleflight<T> = {
  do(key: string, fn: () => Promise<T>): Promise<T>
  /** Keys with a call in flight. */
  readonly size: number
}

export function createSingleflight<T>(): Singleflight<T> {
  const inFlight = new Map<string, Promise<T>>()
  return {
    do(key, fn) {
      const running = inFlight.get(key)
      if (running !== undefined) {
        return running
      }
      // fn starts on the next microtask, after the key is registered, so even a caller that
      // re-enters with the same key from inside fn joins instead of starting a second call.
      const call = Promise.resolve().then(fn)
      inFlight.set(key, call)
      const forget = () => {
        if (inFlight.get(key) === call) {
          inFlight.delete(key)
        }
      }
      call.then(forget, forget)
      return call
    },
    get size() {
      return inFlight.size
    },
  }
}
