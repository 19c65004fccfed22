import type { Pool } from 'pg'
import { grantIn, lockAccount } from '../../access/pg-ledger-core.ts'
import { inPgTransaction } from '../pg-transaction.ts'
import type { BootstrapRepository } from '../ports.ts'

/**
 * The advisory lock bootstrap takes for its transaction: one 64-bit key, the bytes of
 * "imgboot1". Instances starting together queue on it, so the first commits and every other
 * then finds its admin key.
 */
export const BOOTSTRAP_LOCK_KEY = 0x696d_6762_6f6f_7431n

/** Live keys holding the admin scope (jsonb containment on the scopes array). */
export const COUNT_ACTIVE_ADMINS = `SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL AND scopes @> '["admin"]'::jsonb`

/**
 * Bootstrap on PostgreSQL: one transaction that first takes a transaction-level advisory lock,
 * then asks whether a live admin key exists. Two instances cannot both find none: the second
 * waits on the lock until the first committed (or rolled back), and its question then sees the
 * first one's key. The workspace insert and the grant's unique reference would also refuse a
 * double, but the lock means no instance ever gets as far as an error.
 */
export function createPgBootstrapRepository(pool: Pool): BootstrapRepository {
  return {
    bootstrapAdmin: (plan) =>
      inPgTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_KEY.toString()])
        const admins = await client.query(COUNT_ACTIVE_ADMINS)
        if (Number(admins.rows[0]?.n ?? 0) > 0) {
          return false
        }
        const { workspace, key } = plan
        await client.query(
          `INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)
           ON CONFLICT (id) DO NOTHING`,
          [workspace.id, workspace.name, workspace.createdAt],
        )
        await lockAccount(client, workspace.id, workspace.createdAt)
        if (plan.grant.units > 0) {
          await grantIn(
            client,
            workspace.id,
            plan.grant.units,
            plan.grant.reference,
            workspace.createdAt,
          )
        }
        await client.query(
          `INSERT INTO api_keys (id, workspace_id, name, key_hash, display_prefix, last4, scopes,
             requests_per_minute, images_per_minute, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
          [
            key.id,
            key.workspaceId,
            key.name ?? null,
            key.keyHash,
            key.displayPrefix,
            key.last4,
            JSON.stringify(key.scopes),
            key.requestsPerMinute ?? null,
            key.imagesPerMinute ?? null,
            key.createdAt,
          ],
        )
        plan.beforeCommit()
        return true
      }),
  }
}
