import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Sqlite from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createGroupCommit } from './group-commit.ts'

let dir: string
let connections: Sqlite.Database[] = []
afterEach(() => {
  for (const connection of connections) {
    connection.close()
  }
  connections = []
  rmSync(dir, { recursive: true, force: true })
})

/** Two connections to one WAL file: `main` writes, `other` sees only what was committed. */
function database() {
  dir = mkdtempSync(path.join(tmpdir(), 'imagegate-group-commit-'))
  const file = path.join(dir, 'test.db')
  const main = new Sqlite(file, { timeout: 0 })
  main.pragma('journal_mode = WAL')
  main.exec('CREATE TABLE entries (name TEXT PRIMARY KEY)')
  const other = new Sqlite(file, { timeout: 0 })
  connections.push(main, other)
  const insert = main.prepare('INSERT INTO entries (name) VALUES (?)')
  const committed = () =>
    (other.prepare('SELECT name FROM entries ORDER BY name').all() as { name: string }[]).map(
      (row) => row.name,
    )
  return { main, other, insert, committed }
}

describe('createGroupCommit', () => {
  it('commits the work asked for in one turn together, and answers only after the commit', async () => {
    const { main, insert, committed } = database()
    const commit = createGroupCommit(main)
    const seenByOthers: string[][] = []
    const results = Promise.all(
      ['a', 'b', 'c'].map((name) =>
        commit(() => {
          seenByOthers.push(committed())
          insert.run(name)
          return name.toUpperCase()
        }),
      ),
    )
    expect(committed()).toEqual([])
    await expect(results).resolves.toEqual(['A', 'B', 'C'])
    // One transaction: no piece of work saw another's row committed.
    expect(seenByOthers).toEqual([[], [], []])
    expect(committed()).toEqual(['a', 'b', 'c'])
  })

  it('rolls back and rejects only the work that threw', async () => {
    const { main, insert, committed } = database()
    const commit = createGroupCommit(main)
    const outcomes = await Promise.allSettled([
      commit(() => insert.run('a')),
      commit(() => {
        insert.run('b')
        throw new Error('no credits')
      }),
      commit(() => insert.run('c')),
    ])
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ])
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('no credits'))
    expect(committed()).toEqual(['a', 'c'])
  })

  it('work asked for after a commit goes into the next one', async () => {
    const { main, insert, committed } = database()
    const commit = createGroupCommit(main)
    await commit(() => insert.run('first'))
    expect(committed()).toEqual(['first'])
    await commit(() => insert.run('second'))
    expect(committed()).toEqual(['first', 'second'])
  })

  it('rejects every piece of work when the transaction cannot commit, and keeps none', async () => {
    const { main, other, insert, committed } = database()
    const commit = createGroupCommit(main)
    other.exec('BEGIN IMMEDIATE')
    const outcomes = await Promise.allSettled([
      commit(() => insert.run('a')),
      commit(() => insert.run('b')),
    ])
    other.exec('ROLLBACK')
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected'])
    expect((outcomes[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_BUSY' })
    expect(committed()).toEqual([])
  })
})
