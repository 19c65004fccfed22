import type pg from 'pg'

/**
 * Runs `work` in one READ COMMITTED transaction on a connection of its own, committing when it
 * resolves and rolling back when it throws. While the connection is checked out the pool does
 * not listen for its errors, and pg raises an unheard one as an uncaught exception: a server
 * that goes away between two statements would end the process. So the connection is listened
 * to here, and one that broke, or whose ROLLBACK failed, is destroyed rather than handed back.
 */
export async function inPgTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  const onError = (error: Error) => {
    broken = error
  }
  client.on('error', onError)
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
    client.off('error', onError)
    client.release(broken)
  }
}

/** The server's SQLSTATE and constraint name of a failed statement, when it has them. */
export function pgErrorOf(error: unknown): { code?: string; constraint?: string } {
  return typeof error === 'object' && error !== null
    ? (error as { code?: string; constraint?: string })
    : {}
}
