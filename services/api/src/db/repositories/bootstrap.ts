import type { SqliteLedgerCore } from '../../access/sqlite-ledger-core.ts'
import type { Database } from '../client.ts'
import type { BootstrapRepository } from '../ports.ts'
import { apiKeys, workspaces } from '../schema/index.ts'
import { countActiveAdmins } from './api-keys.ts'

/**
 * Bootstrap on SQLite: one IMMEDIATE transaction on the durable connection takes the write lock
 * before it asks whether a live admin key exists, so of any number of connections bootstrapping
 * at once exactly one finds none and commits.
 */
export function createBootstrapRepository(
  database: Pick<Database, 'durable' | 'durableDb'>,
  ledger: SqliteLedgerCore,
): BootstrapRepository {
  const db = database.durableDb
  return {
    async bootstrapAdmin(plan) {
      return database.durable
        .transaction(() => {
          if (countActiveAdmins(db) > 0) {
            return false
          }
          db.insert(workspaces).values(plan.workspace).onConflictDoNothing().run()
          ledger.ensureAccount(plan.workspace.id)
          if (plan.grant.units > 0) {
            ledger.grant(plan.workspace.id, plan.grant.units, { reference: plan.grant.reference })
          }
          db.insert(apiKeys).values(plan.key).run()
          plan.beforeCommit()
          return true
        })
        .immediate()
    },
  }
}
