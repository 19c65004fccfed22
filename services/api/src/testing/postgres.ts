import { randomUUID } from 'node:crypto'
import pg from 'pg'

/** The machine's PostgreSQL, as scripts/setup.sh provides it: loopback, user postgres, trust. */
export const TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

export type TestDatabase = {
  name: string
  url: string
  /** Drops the database, disconnecting anyone still on it. */
  drop(): Promise<void>
}

async function asAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

export type TestDatabaseOptions = {
  /**
   * An ICU locale (`en-US`) for the database's default collation, instead of the server's
   * (byte-wise C.UTF-8 here): proves that queries which must compare bytes do so anywhere.
   */
  icuLocale?: string
}

/** A fresh, uniquely named, empty database for one test file; drop it when done. */
export async function createTestDatabase(
  adminUrl = TEST_POSTGRES_URL,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const name = `imagegate_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`
  const locale = options.icuLocale
    ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${options.icuLocale.replaceAll("'", '')}' LOCALE 'C.UTF-8'`
    : ''
  await asAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}${locale}`))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  let dropped: Promise<void> | undefined
  return {
    name,
    url: url.toString(),
    drop() {
      dropped ??= asAdmin(adminUrl, async (client) => {
        // pg's Pool.end() resolves before its connections have closed; a forced drop would
        // then terminate them, and their clients would raise that as an uncaught error. So
        // wait (briefly) for them to go, and force only what is still there after that.
        for (let waited = 0; waited < 5000; waited += 50) {
          const open = await client.query<{ count: string }>(
            'SELECT count(*) FROM pg_stat_activity WHERE datname = $1',
            [name],
          )
          if (Number(open.rows[0]?.count ?? 0) === 0) {
            break
          }
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      })
      return dropped
    },
  }
}

/**
 * One statement on a connection of its own, for looking into a database behind the server's
 * back (the server may be running, or killed).
 */
export async function queryDatabase<T extends Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  return asAdmin(url, async (client) => (await client.query<T>(text, values)).rows)
}
