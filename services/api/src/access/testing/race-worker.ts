import { parentPort, workerData } from 'node:worker_threads'
import Sqlite from 'better-sqlite3'
import { InsufficientCreditsError } from '../ledger-errors.ts'
import { SqliteIdempotencyStore } from '../sqlite-idempotency-store.ts'
import { SqliteLedgerCore } from '../sqlite-ledger-core.ts'

/**
 * One racer for sqlite-races.test.ts: opens its own connection to the shared database file,
 * waits at the start line (a SharedArrayBuffer barrier) and then claims an idempotency key or
 * reserves credits as fast as it can. It answers one outcome per operation.
 */
export type RaceTask = {
  file: string
  kind: 'claim' | 'reserve'
  racer: number
  operations: number
  start: SharedArrayBuffer
  nowMs: number
}

const task = workerData as RaceTask
const sqlite = new Sqlite(task.file, { timeout: 20_000 })
sqlite.pragma('busy_timeout = 20000')
const start = new Int32Array(task.start)
Atomics.add(start, 0, 1)
Atomics.wait(start, 1, 0)

const outcomes: string[] = []
if (task.kind === 'claim') {
  const store = new SqliteIdempotencyStore(sqlite)
  for (let index = 0; index < task.operations; index += 1) {
    const result = await store.claim(
      { workspaceId: 'ws', key: 'shared-key' },
      {
        token: `racer${task.racer}_${index}`,
        fingerprint: 'fp',
        nowMs: task.nowMs,
        leaseUntilMs: task.nowMs + 60_000,
        expiresAtMs: task.nowMs + 86_400_000,
      },
    )
    outcomes.push(result.claimed ? 'claimed' : 'blocked')
  }
} else {
  const clock = { now: () => new Date(task.nowMs) }
  let next = 0
  const ledger = new SqliteLedgerCore(sqlite, {
    clock,
    newId: () => `rsv_${task.racer}_${next++}`,
  })
  for (let index = 0; index < task.operations; index += 1) {
    try {
      ledger.reserve('ws', 7, `req_${task.racer}_${index}`)
      outcomes.push('reserved')
    } catch (error) {
      outcomes.push(error instanceof InsufficientCreditsError ? 'insufficient' : String(error))
    }
  }
}
sqlite.close()
parentPort?.postMessage(outcomes)
