import { creditsToUnits } from '../../access/credit-units.ts'
import type { WorkspacesRepository } from '../../db/ports.ts'
import type { WorkspaceRow } from '../../db/schema/index.ts'
import { NotFoundError } from '../../errors/app-error.ts'
import type { Clock, IdGenerator } from '../../ids.ts'
import type { CreditService } from './credits.ts'

export type Workspace = { id: string; name: string; balance: number; createdAt: string }

export type WorkspaceServiceDeps = {
  repo: WorkspacesRepository
  credits: CreditService
  ids: IdGenerator
  clock: Clock
}

export function createWorkspaceService(deps: WorkspaceServiceDeps) {
  const { repo, credits } = deps
  const withBalance = async (row: WorkspaceRow): Promise<Workspace> => ({
    id: row.id,
    name: row.name,
    balance: await credits.balance(row.id),
    createdAt: row.createdAt,
  })

  return {
    /**
     * A new workspace and its account, with `initialCredits` granted in the same commit, so no
     * crash leaves a workspace without the credits it was created with. `reference` names the
     * logical request: if its grant was already made (a crash after the commit, then a retry
     * with the same Idempotency-Key), the workspace it made is answered instead of a second one.
     */
    async create(
      input: { name: string; initialCredits: number },
      reference: string,
    ): Promise<Workspace> {
      const row = await repo.createFunded(
        { id: deps.ids('ws'), name: input.name, createdAt: deps.clock.now().toISOString() },
        { units: creditsToUnits(input.initialCredits), reference: `workspace:${reference}` },
      )
      return withBalance(row)
    },

    list: async (): Promise<Workspace[]> => Promise.all((await repo.list()).map(withBalance)),

    /** The workspace, or 404 not_found. */
    async get(id: string): Promise<Workspace> {
      const row = await repo.get(id)
      if (!row) {
        throw new NotFoundError('workspace', id)
      }
      return withBalance(row)
    },

    exists: async (id: string) => (await repo.get(id)) !== undefined,
  }
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>
