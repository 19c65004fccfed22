import { asc, eq } from 'drizzle-orm'
import type { SqliteLedgerCore } from '../../access/sqlite-ledger-core.ts'
import type { Database } from '../client.ts'
import type { WorkspacesRepository } from '../ports.ts'
import { workspaces } from '../schema/index.ts'

/**
 * Workspace rows on SQLite, on the durable connection: `createFunded` writes the workspace and
 * its grant with `ledger` (the synchronous ledger on that connection) in one IMMEDIATE
 * transaction.
 */
export function createWorkspacesRepository(
  database: Pick<Database, 'durable' | 'durableDb'>,
  ledger: SqliteLedgerCore,
): WorkspacesRepository {
  const db = database.durableDb
  const get = (id: string) => db.select().from(workspaces).where(eq(workspaces.id, id)).get()
  return {
    get: async (id) => get(id),

    /** Oldest first; ids are time-ordered (`default` sorts after every `ws_…`, so by date). */
    list: async () =>
      db.select().from(workspaces).orderBy(asc(workspaces.createdAt), asc(workspaces.id)).all(),

    async createFunded(row, grant) {
      return database.durable
        .transaction(() => {
          const earlier = ledger.grantedTo(grant.reference)
          const made = earlier === undefined ? undefined : get(earlier)
          if (made) {
            return made
          }
          const inserted = db.insert(workspaces).values(row).returning().get()
          ledger.ensureAccount(row.id)
          if (grant.units > 0) {
            ledger.grant(row.id, grant.units, { reference: grant.reference })
          }
          return inserted
        })
        .immediate()
    },
  }
}
