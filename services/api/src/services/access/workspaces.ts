import type Sqlite from 'better-sqlite3'
import type { WorkspacesRepository } from '../../db/repositories/workspaces.ts'
import type { WorkspaceRow } from '../../db/schema/index.ts'
import { NotFoundError } from '../../errors/app-error.ts'
import type { Clock, IdGenerator } from '../../ids.ts'
import type { CreditService } from './credits.ts'

export type Workspace = { id: string; name: string; balance: number; createdAt: string }

export type WorkspaceServiceDeps = {
  repo: WorkspacesRepository
  credits: CreditService
  /** The durable connection the repository and the ledger write on: one commit for both. */
  durable: Sqlite.Database
  ids: IdGenerator
  clock: Clock
}

export function createWorkspaceService(deps: WorkspaceServiceDeps) {
  const { repo, credits } = deps
  const withBalance = (row: WorkspaceRow): Workspace => ({
    id: row.id,
    name: row.name,
    balance: credits.balance(row.id),
    createdAt: row.createdAt,
  })

  return {
    /**
     * A new workspace and its account, with `initialCredits` granted in the same commit, so no
     * crash leaves a workspace without the credits it was created with. `reference` names the
     * logical request: if its grant was already made (a crash after the commit, then a retry
     * with the same Idempotency-Key), the workspace it made is answered instead of a second one.
     */
    create(input: { name: string; initialCredits: number }, reference: string): Workspace {
      const grantReference = `workspace:${reference}`
      return deps.durable
        .transaction(() => {
          const earlier = credits.ledger.grantedTo(grantReference)
          const made = earlier === undefined ? undefined : repo.get(earlier)
          if (made) {
            return withBalance(made)
          }
          const row = repo.insert({
            id: deps.ids('ws'),
            name: input.name,
            createdAt: deps.clock.now().toISOString(),
          })
          credits.ledger.ensureAccount(row.id)
          if (input.initialCredits > 0) {
            credits.grant(row.id, input.initialCredits, grantReference)
          }
          return withBalance(row)
        })
        .immediate()
    },

    list: (): Workspace[] => repo.list().map(withBalance),

    /** The workspace, or 404 not_found. */
    get(id: string): Workspace {
      const row = repo.get(id)
      if (!row) {
        throw new NotFoundError('workspace', id)
      }
      return withBalance(row)
    },

    exists: (id: string) => repo.get(id) !== undefined,
  }
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>
