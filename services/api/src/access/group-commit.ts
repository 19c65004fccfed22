import type Sqlite from 'better-sqlite3'

/**
 * Runs `work` in a transaction of the given connection and resolves once that transaction has
 * committed. Everything asked for during one turn of the event loop shares one IMMEDIATE
 * transaction, so on a `synchronous = FULL` connection N concurrent ledger writes cost one
 * fsync instead of N, and the event loop is blocked once instead of N times. Each piece of work
 * runs in its own savepoint: one that throws (e.g. insufficient credits) is rolled back alone
 * and rejects alone; the others still commit. Nobody hears of a result before the commit that
 * makes it durable, so "committed before the provider is called" and "committed before the
 * answer" hold as with a transaction of one's own. Should the commit itself fail, every piece
 * of work in it rejects with that error.
 */
export type GroupCommit = <T>(work: () => T) => Promise<T>

type Pending = {
  work: () => unknown
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

export function createGroupCommit(sqlite: Sqlite.Database): GroupCommit {
  let queue: Pending[] = []

  const flush = () => {
    const batch = queue
    queue = []
    const outcomes: Outcome[] = []
    try {
      sqlite
        .transaction(() => {
          for (const item of batch) {
            try {
              // A nested better-sqlite3 transaction is a savepoint.
              outcomes.push({ ok: true, value: sqlite.transaction(item.work)() })
            } catch (error) {
              outcomes.push({ ok: false, error })
            }
          }
        })
        .immediate()
    } catch (error) {
      for (const item of batch) {
        item.reject(error)
      }
      return
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index] as Outcome
      if (outcome.ok) {
        item.resolve(outcome.value)
      } else {
        item.reject(outcome.error)
      }
    })
  }

  return <T>(work: () => T) =>
    new Promise<T>((resolve, reject) => {
      if (queue.length === 0) {
        // After this turn's I/O callbacks: every request read in this turn joins the batch.
        setImmediate(flush)
      }
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
    })
}
