import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts'
import { inPgTransaction } from './pg-transaction.ts'

let database: TestDatabase
let pool: pg.Pool

beforeAll(async () => {
  database = await createTestDatabase()
  pool = new pg.Pool({ connectionString: database.url, max: 3 })
  await pool.query('CREATE TABLE notes (body text NOT NULL)')
})

afterAll(async () => {
  await pool?.end()
  await database?.drop()
})

const bodies = async () =>
  (await pool.query<{ body: string }>('SELECT body FROM notes ORDER BY body')).rows.map(
    (row) => row.body,
  )

describe('inPgTransaction', () => {
  it('commits what the work did when it resolves, and nothing of it when it throws', async () => {
    await inPgTransaction(pool, (client) => client.query("INSERT INTO notes VALUES ('kept')"))
    await expect(
      inPgTransaction(pool, async (client) => {
        await client.query("INSERT INTO notes VALUES ('dropped')")
        throw new Error('refused')
      }),
    ).rejects.toThrow('refused')
    expect(await bodies()).toEqual(['kept'])
  })

  it('survives its connection being killed mid-transaction and leaves the pool usable', async () => {
    await expect(
      inPgTransaction(pool, async (client) => {
        await client.query("INSERT INTO notes VALUES ('lost')")
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
        await pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid])
        // The server's goodbye reaches the connection between two statements.
        await new Promise((resolve) => setTimeout(resolve, 200))
        await client.query("INSERT INTO notes VALUES ('never')")
      }),
    ).rejects.toThrow()
    expect(await bodies()).not.toContain('lost')
    expect(pool.totalCount).toBeLessThanOrEqual(3)
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })
})
