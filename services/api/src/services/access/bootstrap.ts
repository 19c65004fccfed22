import path from 'node:path'
import { describeApiKey, generateApiKey } from '../../access/api-key-format.ts'
import type { RandomBytes } from '../../access/base62.ts'
import { creditsToUnits } from '../../access/credit-units.ts'
import type { RateLimits } from '../../access/rate-limit-policies.ts'
import { writeSecretFile } from '../../access/secret-file.ts'
import type { BootstrapRepository } from '../../db/ports.ts'
import type { Clock, IdGenerator } from '../../ids.ts'

export const BOOTSTRAP_WORKSPACE_ID = 'default'
export const BOOTSTRAP_KEY_FILE = 'bootstrap-key'

/** `file` is where a random key was written; undefined for the operator's own key. */
export type Bootstrapped = { key: string; file: string | undefined; workspaceId: string }

/** SQLite's and PostgreSQL's unique violation, possibly wrapped by drizzle. */
function isUniqueViolation(err: unknown): boolean {
  const { code, cause } = err as { code?: string; cause?: unknown }
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === '23505' ||
    (cause !== undefined && isUniqueViolation(cause))
  )
}

/**
 * A newcomer's first start: with no live admin key in the database, create workspace `default`
 * (granted `initialCredits` once: the grant's reference makes a second bootstrap add nothing) and an
 * admin key, written to `<data dir>/bootstrap-key` with mode 0600. The caller prints it once.
 * A restart after every admin key was revoked mints a new one the same way: whoever can restart
 * the server owns its data dir anyway. All of it is one commit (BootstrapRepository), so of
 * several instances starting at once on one database exactly one creates the key.
 *
 * With `adminKey` (IMAGEGATE_BOOTSTRAP_ADMIN_KEY) that key is the admin key instead, and no
 * file is written: the operator has it already. A start after it was revoked refuses to
 * bring it back (its hash is taken, so the insert is refused).
 */
export async function bootstrapAccess(deps: {
  repo: BootstrapRepository
  ids: IdGenerator
  clock: Clock
  randomBytes: RandomBytes
  dataDir: string
  initialCredits: number
  /** The limits a new key gets by default (config.rateLimits.key). */
  keyLimits: RateLimits
  adminKey?: string | undefined
}): Promise<Bootstrapped | undefined> {
  const workspaceId = BOOTSTRAP_WORKSPACE_ID
  const file = deps.adminKey === undefined ? path.join(deps.dataDir, BOOTSTRAP_KEY_FILE) : undefined
  const now = deps.clock.now().toISOString()
  const key =
    deps.adminKey === undefined ? generateApiKey(deps.randomBytes) : describeApiKey(deps.adminKey)
  let created: boolean
  try {
    created = await deps.repo.bootstrapAdmin({
      workspace: { id: workspaceId, name: 'Default', createdAt: now },
      grant: { units: creditsToUnits(deps.initialCredits), reference: 'bootstrap' },
      key: {
        id: deps.ids('key'),
        workspaceId,
        name: 'bootstrap admin',
        keyHash: key.keyHash,
        displayPrefix: key.displayPrefix,
        last4: key.last4,
        scopes: ['admin'],
        requestsPerMinute: deps.keyLimits.requestsPerMinute,
        imagesPerMinute: deps.keyLimits.imagesPerMinute,
        createdAt: now,
      },
      // The file is written inside the transaction, before its commit: a crash in between
      // leaves a file whose key was never committed, and the next start simply bootstraps
      // again. The other order could commit a key that nobody can ever read.
      beforeCommit() {
        if (file !== undefined) {
          writeSecretFile(file, `${key.key}\n`)
        }
      },
    })
  } catch (err) {
    if (deps.adminKey !== undefined && isUniqueViolation(err)) {
      throw new Error(
        'IMAGEGATE_BOOTSTRAP_ADMIN_KEY names a key that was revoked; choose a new one (pnpm new-key)',
      )
    }
    throw err
  }
  return created ? { key: key.key, file, workspaceId } : undefined
}
