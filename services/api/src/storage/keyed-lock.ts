/**
 * In-process mutual exclusion per key. The blob store holds it per digest around the few steps
 * that must not interleave: publishing (link or touch), GC's final re-check + unlink, and
 * quarantine. Without it GC could unlink a blob right after a put found it and refreshed it.
 */
export type KeyedLock = <T>(key: string, critical: () => Promise<T>) => Promise<T>

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>()
  return async (key, critical) => {
    const previous = tails.get(key) ?? Promise.resolve()
    let release: () => void = () => {}
    const current = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => current)
    tails.set(key, tail)
    await previous
    try {
      return await critical()
    } finally {
      release()
      // Only the last waiter may drop the entry, or a queued waiter would lose its place.
      if (tails.get(key) === tail) {
        tails.delete(key)
      }
    }
  }
}
