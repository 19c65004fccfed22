import { and, asc, eq, getTableColumns } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import { assertUnits } from '../../access/ledger-types.ts'
import { grantIn, lockAccount } from '../../access/pg-ledger-core.ts'
import { creditLedger, workspaces } from '../pg-schema/index.ts'
import { inPgTransaction } from '../pg-transaction.ts'
import type { WorkspacesRepository } from '../ports.ts'
import type { WorkspaceRow } from '../schema/index.ts'

/** Another commit granted this reference while ours was under way. */
class ReferenceTakenError extends Error {}

/**
 * Workspace rows on PostgreSQL. `createFunded` writes the workspace, its credit account and its
 * grant in one transaction with the ledger's own statements (access/pg-ledger-core.ts), so the
 * grant takes the account lock every balance change takes. The grant's reference is unique
 * (`credit_ledger_grant_reference`): of two instances creating a workspace for one reference at
 * once, the second's grant waits on the first's commit and then inserts nothing, so its
 * transaction is rolled back, its workspace with it, and it answers the first one's.
 */
export function createPgWorkspacesRepository(pool: Pool): WorkspacesRepository {
  const db = drizzle({ client: pool })

  /** The workspace a grant under `reference` went to, if one was made. */
  async function fundedBy(reference: string): Promise<WorkspaceRow | undefined> {
    const [row] = await db
      .select(getTableColumns(workspaces))
      .from(creditLedger)
      .innerJoin(workspaces, eq(workspaces.id, creditLedger.workspaceId))
      .where(and(eq(creditLedger.kind, 'grant'), eq(creditLedger.reference, reference)))
      .limit(1)
    return row
  }

  return {
    async get(id) {
      const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id))
      return row
    },

    /** Oldest first, by creation time (`default` is no time-ordered id), then id. */
    list: async () =>
      db.select().from(workspaces).orderBy(asc(workspaces.createdAt), asc(workspaces.id)),

    async createFunded(row, grant) {
      const earlier = await fundedBy(grant.reference)
      if (earlier) {
        return earlier
      }
      try {
        return await inPgTransaction(pool, async (client) => {
          const { rows } = await client.query<WorkspaceRow>(
            `INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)
             RETURNING id, name, created_at AS "createdAt"`,
            [row.id, row.name, row.createdAt],
          )
          await lockAccount(client, row.id, row.createdAt)
          if (grant.units > 0) {
            assertUnits(grant.units, 'a grant')
            const { granted } = await grantIn(
              client,
              row.id,
              grant.units,
              grant.reference,
              row.createdAt,
            )
            if (!granted) {
              throw new ReferenceTakenError(grant.reference)
            }
          }
          return rows[0] as WorkspaceRow
        })
      } catch (error) {
        const winner = error instanceof ReferenceTakenError && (await fundedBy(grant.reference))
        if (winner) {
          return winner
        }
        throw error
      }
    },
  }
}
