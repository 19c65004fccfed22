import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PgCluster, startPgCluster } from './pg-cluster.ts'

async function count(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const result = await client.query<{ n: string }>('SELECT count(*) AS n FROM marks')
    return Number(result.rows[0]?.n)
  } finally {
    await client.end()
  }
}

describe('a private PostgreSQL cluster', () => {
  let cluster: PgCluster
  beforeAll(async () => {
    cluster = await startPgCluster()
  }, 60_000)
  afterAll(async () => {
    await cluster?.destroy()
  })

  it('keeps committed rows across a fast stop and across a SIGKILL', async () => {
    const client = new pg.Client({ connectionString: cluster.adminUrl })
    await client.connect()
    await client.query('CREATE TABLE marks (id int)')
    await client.query('INSERT INTO marks VALUES (1), (2)')
    await client.end()

    await cluster.stop()
    await expect(count(cluster.adminUrl)).rejects.toThrow()
    await cluster.start()
    expect(await count(cluster.adminUrl)).toBe(2)

    await cluster.kill()
    await expect(count(cluster.adminUrl)).rejects.toThrow()
    await cluster.start()
    expect(await count(cluster.adminUrl)).toBe(2)
  }, 60_000)
})
