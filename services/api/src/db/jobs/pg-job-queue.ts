import { drizzle } from 'drizzle-orm/node-postgres'
import type { Pool, PoolClient } from 'pg'
import { reserveIn } from '../../access/pg-ledger-core.ts'
import * as pgSchema from '../pg-schema/index.ts'
import { inPgTransaction } from '../pg-transaction.ts'
import type { GenerationRow } from '../schema/index.ts'
import type { CancelOutcome, Job, JobQueue, JobState } from './job-queue.ts'
import { emptyCounts, FINAL_STATES, type JobRecord, toJob } from './job-rows.ts'

/**
 * The oldest claimable job whose workspace is below its bound, locked for this transaction;
 * rows another claimer holds are skipped, not waited for, so claimers never queue on one row.
 */
const CANDIDATE = `
  SELECT generation_id, workspace_id FROM generation_jobs AS j
  WHERE (j.state = 'queued' OR (j.state = 'running' AND j.lease_expires_at <= $1))
    AND (SELECT count(*) FROM generation_jobs AS r
         WHERE r.workspace_id = j.workspace_id AND r.state = 'running'
           AND r.lease_expires_at > $1) < $2
  ORDER BY j.created_at, j.generation_id
  LIMIT 1
  FOR UPDATE SKIP LOCKED`

const INSERT_JOB = `
  INSERT INTO generation_jobs (generation_id, workspace_id, state, payload, reservation_id,
    attempts, cancel_requested, created_at)
  VALUES ($1, $2, 'queued', $3, $4, 0, false, $5)`

const RUNNING_IN_WORKSPACE = `
  SELECT count(*) AS count FROM generation_jobs
  WHERE workspace_id = $1 AND state = 'running' AND lease_expires_at > $2`

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true
    })
    throw error
  } finally {
    client.release(broken)
  }
}

/**
 * The scaled-out job queue: generation_jobs in PostgreSQL, claimed by any number of instances.
 * A claim locks its row with FOR UPDATE SKIP LOCKED. The per-workspace bound needs more than
 * a row lock (two claimers could each lock a different job of one workspace and both count
 * the same running jobs), so the claim also takes a transaction advisory lock on the workspace
 * and counts again under it: claims of one workspace commit one after the other, claims of
 * different workspaces never wait on each other. An accept's hold (pg-ledger-core.ts, `ids`
 * naming its reservation), generation record and job row are one transaction.
 */
export function createPgJobQueue(pool: Pool, ids: { newId: () => string }): JobQueue {
  async function claimOne(
    owner: string,
    until: number,
    perWorkspace: number,
    now: number,
  ): Promise<Job | undefined> {
    return inTransaction(pool, async (client) => {
      const candidate = await client.query<{ generation_id: string; workspace_id: string }>(
        CANDIDATE,
        [now, perWorkspace],
      )
      const next = candidate.rows[0]
      if (!next) {
        return undefined
      }
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `generation_jobs:${next.workspace_id}`,
      ])
      const running = await client.query<{ count: string }>(RUNNING_IN_WORKSPACE, [
        next.workspace_id,
        now,
      ])
      if (Number(running.rows[0]?.count ?? 0) >= perWorkspace) {
        return undefined
      }
      const taken = await client.query<JobRecord>(
        `UPDATE generation_jobs
         SET state = 'running', lease_owner = $2, lease_expires_at = $3, attempts = attempts + 1
         WHERE generation_id = $1
         RETURNING *`,
        [next.generation_id, owner, until],
      )
      return toJob(taken.rows[0] as JobRecord, false)
    })
  }

  const get = async (id: string) => {
    const result = await pool.query<JobRecord>(
      'SELECT * FROM generation_jobs WHERE generation_id = $1',
      [id],
    )
    const row = result.rows[0]
    return row ? toJob(row, false) : undefined
  }

  return {
    async enqueue(job, now) {
      await pool.query(INSERT_JOB, [
        job.generationId,
        job.workspaceId,
        JSON.stringify(job.payload),
        job.reservationId,
        now,
      ])
    },
    accept({ job, generation, hold }, now) {
      return inPgTransaction(pool, async (client) => {
        const reservation = hold
          ? await reserveIn(
              client,
              { workspaceId: job.workspaceId, ...hold },
              { newId: ids.newId, now: new Date(now).toISOString() },
            )
          : undefined
        const [row] = await drizzle(client, { schema: pgSchema })
          .insert(pgSchema.generations)
          .values(generation)
          .returning()
        await client.query(INSERT_JOB, [
          job.generationId,
          job.workspaceId,
          JSON.stringify(job.payload),
          reservation?.id ?? null,
          now,
        ])
        return { generation: row as GenerationRow, reservation }
      })
    },
    async claim(owner, options) {
      const claimed: Job[] = []
      const until = options.now + options.leaseMs
      while (claimed.length < options.limit) {
        const job = await claimOne(owner, until, options.perWorkspace, options.now)
        if (!job) {
          break
        }
        claimed.push(job)
      }
      return claimed
    },
    async renew(owner, ids, leaseUntil) {
      if (ids.length === 0) {
        return { held: [], cancelRequested: [] }
      }
      const result = await pool.query<{ generation_id: string; cancel_requested: boolean }>(
        `UPDATE generation_jobs SET lease_expires_at = $3
         WHERE generation_id = ANY($1) AND lease_owner = $2 AND state = 'running'
         RETURNING generation_id, cancel_requested`,
        [ids, owner, leaseUntil],
      )
      return {
        held: result.rows.map((row) => row.generation_id),
        cancelRequested: result.rows
          .filter((row) => row.cancel_requested)
          .map((row) => row.generation_id),
      }
    },
    async markDispatched(owner, id, now) {
      const result = await pool.query(
        `UPDATE generation_jobs SET dispatched_at = $3
         WHERE generation_id = $1 AND lease_owner = $2 AND state = 'running'`,
        [id, owner, now],
      )
      return result.rowCount === 1
    },
    async finish(owner, id, state, now) {
      const result = await pool.query(
        `UPDATE generation_jobs
         SET state = $3, finished_at = $4, lease_owner = NULL, lease_expires_at = NULL
         WHERE generation_id = $1 AND lease_owner = $2 AND state = 'running'`,
        [id, owner, state, now],
      )
      return result.rowCount === 1
    },
    async requeue(owner, id) {
      const result = await pool.query(
        `UPDATE generation_jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL
         WHERE generation_id = $1 AND lease_owner = $2 AND state = 'running'
           AND dispatched_at IS NULL`,
        [id, owner],
      )
      return result.rowCount === 1
    },
    async cancel(workspaceId, id, now): Promise<CancelOutcome> {
      return inTransaction(pool, async (client) => {
        const found = await client.query<JobRecord>(
          'SELECT * FROM generation_jobs WHERE generation_id = $1 FOR UPDATE',
          [id],
        )
        const row = found.rows[0]
        if (!row || row.workspace_id !== workspaceId) {
          return { outcome: 'not_found' }
        }
        const job = toJob(row, false)
        if (FINAL_STATES.includes(job.state)) {
          return { outcome: 'finished', job }
        }
        const updated = await client.query<JobRecord>(
          job.state === 'queued'
            ? `UPDATE generation_jobs SET state = 'cancelled', finished_at = $2,
                 cancel_requested = true
               WHERE generation_id = $1 RETURNING *`
            : `UPDATE generation_jobs SET cancel_requested = true
               WHERE generation_id = $1 RETURNING *`,
          job.state === 'queued' ? [id, now] : [id],
        )
        const changed = toJob(updated.rows[0] as JobRecord, false)
        return { outcome: job.state === 'queued' ? 'cancelled' : 'requested', job: changed }
      })
    },
    get,
    async counts() {
      const counts = emptyCounts()
      const result = await pool.query<{ state: JobState; count: string }>(
        'SELECT state, count(*) AS count FROM generation_jobs GROUP BY state',
      )
      for (const row of result.rows) {
        counts[row.state] = Number(row.count)
      }
      return counts
    },
    async close() {},
  }
}
