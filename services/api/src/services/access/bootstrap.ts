import path from 'node:path'
import { writeSecretFile } from '../../access/secret-file.ts'
import type { Database } from '../../db/client.ts'
import { ensureWorkspace } from '../../db/repositories/workspaces.ts'
import type { Clock } from '../../ids.ts'
import type { ApiKeyService } from './api-keys.ts'
import type { CreditService } from './credits.ts'

export const BOOTSTRAP_WORKSPACE_ID = 'default'
export const BOOTSTRAP_KEY_FILE = 'bootstrap-key'

/** `file` is where a random key was written; undefined for the operator's own key. */
export type Bootstrapped = { key: string; file: string | undefined; workspaceId: string }

/** A key already stored under the same hash can only be the operator's key, revoked. */
function createAdminKey(apiKeys: ApiKeyService, workspaceId: string, adminKey?: string) {
  try {
    return apiKeys.create(workspaceId, { name: 'bootstrap admin', scopes: ['admin'] }, adminKey)
  } catch (err) {
    if (adminKey !== undefined && isUniqueViolation(err)) {
      throw new Error(
        'IMAGEGATE_BOOTSTRAP_ADMIN_KEY names a key that was revoked; choose a new one (pnpm new-key)',
      )
    }
    throw err
  }
}

function isUniqueViolation(err: unknown): boolean {
  const { code, cause } = err as { code?: string; cause?: unknown }
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || (cause !== undefined && isUniqueViolation(cause))
}

/**
 * A newcomer's first start: with no live admin key in the database, create workspace `default`
 * (granted `initialCredits` once: the grant's reference makes a second bootstrap add nothing) and an
 * admin key, written to `<data dir>/bootstrap-key` with mode 0600. The caller prints it once.
 * A restart after every admin key was revoked mints a new one the same way: whoever can restart
 * the server owns its data dir anyway.
 *
 * With `adminKey` (IMAGEGATE_BOOTSTRAP_ADMIN_KEY) that key is the admin key instead, and no
 * file is written: the operator has it already. A start after it was revoked refuses to
 * bring it back.
 */
export function bootstrapAccess(deps: {
  database: Database
  apiKeys: ApiKeyService
  credits: CreditService
  clock: Clock
  dataDir: string
  initialCredits: number
  adminKey?: string | undefined
}): Bootstrapped | undefined {
  if (deps.apiKeys.countActiveAdmins() > 0) {
    return undefined
  }
  const workspaceId = BOOTSTRAP_WORKSPACE_ID
  const file = deps.adminKey === undefined ? path.join(deps.dataDir, BOOTSTRAP_KEY_FILE) : undefined
  // The file is written inside the transaction, before its commit: a crash in between leaves
  // a file whose key was never committed, and the next start simply bootstraps again. The other
  // order could commit a key that nobody can ever read.
  const key = deps.database.durable
    .transaction(() => {
      ensureWorkspace(deps.database.durableDb, {
        id: workspaceId,
        name: 'Default',
        createdAt: deps.clock.now(),
      })
      deps.credits.ledger.ensureAccount(workspaceId)
      if (deps.initialCredits > 0) {
        deps.credits.grant(workspaceId, deps.initialCredits, 'bootstrap')
      }
      const created = createAdminKey(deps.apiKeys, workspaceId, deps.adminKey)
      if (file !== undefined) {
        writeSecretFile(file, `${created.key}\n`)
      }
      return created.key
    })
    .immediate()
  return { key, file, workspaceId }
}
