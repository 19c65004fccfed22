import type pg from 'pg'

/**
 * Runs `work` in one READ COMMITTED transaction on a connection of its own, committing when it
 * resolves and rolling back when it throws. A connection whose ROLLBACK fails (the server went
 * away mid-transaction) is destroyed rather than handed back to the pool.
 */
export async function inPgTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError
    })
    throw error
  } finally {
    client.release(broken)
  }
}

/** The server's SQLSTATE and constraint name of a failed statement, when it has them. */
export function pgErrorOf(error: unknown): { code?: string; constraint?: string } {
  return typeof error === 'object' && error !== null
    ? (error as { code?: string; constraint?: string })
    : {}
}
