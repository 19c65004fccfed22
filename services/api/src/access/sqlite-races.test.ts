import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { accessDatabase } from './testing/access-database.ts'
import { ledgerFixture } from './testing/ledger-fixture.ts'
import type { RaceTask } from './testing/race-worker.ts'

/**
 * The same races as the in-process tests, but between separate connections on separate threads,
 * all released at once: the atomicity comes from SQLite's write lock, not from JavaScript
 * running one thing at a time.
 */
const workerUrl = new URL('./testing/race-worker.ts', import.meta.url)

/** Workers do not inherit the TypeScript loader, so each one loads the racer through tsx's API. */
const bootstrap = `import('tsx/esm/api').then(({ tsImport }) =>
  tsImport(${JSON.stringify(workerUrl.href)}, ${JSON.stringify(workerUrl.href)}))`
const directories: string[] = []

afterEach(async () => {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function databaseFile() {
  const dir = await mkdtemp(path.join(tmpdir(), 'imagegate-race-'))
  directories.push(dir)
  const file = path.join(dir, 'race.db')
  const sqlite = accessDatabase(file)
  // The racers' own connections enforce foreign keys (better-sqlite3's default).
  sqlite
    .prepare("INSERT INTO workspaces (id, name, created_at) VALUES ('ws', 'Racers', '2030-01-01')")
    .run()
  return { file, sqlite }
}

async function race(base: Omit<RaceTask, 'racer' | 'start'>, racers: number): Promise<string[]> {
  const start = new SharedArrayBuffer(8)
  const flags = new Int32Array(start)
  const workers = Array.from(
    { length: racers },
    (_, racer) =>
      new Worker(bootstrap, {
        eval: true,
        workerData: { ...base, racer, start } satisfies RaceTask,
      }),
  )
  const results = workers.map(
    (worker) =>
      new Promise<string[]>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
      }),
  )
  let failure: unknown
  for (const result of results) {
    result.catch((error: unknown) => {
      failure ??= error
    })
  }
  const deadline = Date.now() + 30_000
  while (Atomics.load(flags, 0) < racers && failure === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  Atomics.store(flags, 1, 1)
  Atomics.notify(flags, 1)
  const outcomes = (await Promise.all(results)).flat()
  await Promise.all(workers.map((worker) => worker.terminate()))
  return outcomes
}

describe('races between connections', () => {
  it('I3: 20 concurrent claims of one key from 10 connections → exactly one winner', async () => {
    const { file, sqlite } = await databaseFile()
    sqlite.close()
    const outcomes = await race({ file, kind: 'claim', operations: 2, nowMs: 1_000_000 }, 10)
    expect(outcomes).toHaveLength(20)
    expect(outcomes.filter((outcome) => outcome === 'claimed')).toHaveLength(1)
  }, 60_000)

  it('D2: balance 100, cost 7, 50 reservations from 10 connections → 14 succeed, balance 2', async () => {
    const { file, sqlite } = await databaseFile()
    const { ledger, count } = ledgerFixture(sqlite)
    await ledger.grant('ws', 100)
    const outcomes = await race({ file, kind: 'reserve', operations: 5, nowMs: 1_000_000 }, 10)
    expect(outcomes).toHaveLength(50)
    expect(outcomes.filter((outcome) => outcome === 'reserved')).toHaveLength(14)
    expect(outcomes.filter((outcome) => outcome === 'insufficient')).toHaveLength(36)
    expect(await ledger.balance('ws')).toBe(2)
    expect(count("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = 'reserve'")).toBe(14)
    expect(await ledger.audit()).toEqual([])
    sqlite.close()
  }, 60_000)
})
