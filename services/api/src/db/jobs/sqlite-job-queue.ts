import type Sqlite from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import type { SqliteLedgerWriter } from '../../access/sqlite-ledger.ts'
import { createGenerationInsert } from '../repositories/generations.ts'
import * as schema from '../schema/index.ts'
import type { CancelOutcome, JobQueue, JobState } from './job-queue.ts'
import { emptyCounts, FINAL_STATES, type JobRecord, toJob } from './job-rows.ts'

/**
 * The embedded job queue: generation_jobs in the SQLite file, on the durable (synchronous=FULL)
 * connection, so an accepted job survives power loss. One process owns the file, and each
 * claim is one IMMEDIATE transaction, so claims never interleave. `ledger` is the Ledger on the
 * same connection: an accept's hold, generation record and job row join its group commit
 * (access/group-commit.ts), one fsync for all three and for whatever else commits in that turn.
 */
export function createSqliteJobQueue(
  sqlite: Sqlite.Database,
  ledger: SqliteLedgerWriter,
): JobQueue {
  const insertGeneration = createGenerationInsert(drizzle({ client: sqlite, schema }))
  const statements = {
    insert: sqlite.prepare(
      `INSERT INTO generation_jobs (generation_id, workspace_id, state, payload, reservation_id,
         attempts, cancel_requested, created_at)
       VALUES (:generationId, :workspaceId, 'queued', :payload, :reservationId, 0, 0, :now)`,
    ),
    // The oldest claimable job whose workspace is below its bound of live running jobs.
    candidate: sqlite.prepare(
      `SELECT generation_id FROM generation_jobs AS j
       WHERE (j.state = 'queued' OR (j.state = 'running' AND j.lease_expires_at <= :now))
         AND (SELECT count(*) FROM generation_jobs AS r
              WHERE r.workspace_id = j.workspace_id AND r.state = 'running'
                AND r.lease_expires_at > :now) < :perWorkspace
       ORDER BY j.created_at, j.generation_id
       LIMIT 1`,
    ),
    take: sqlite.prepare(
      `UPDATE generation_jobs
       SET state = 'running', lease_owner = :owner, lease_expires_at = :until,
           attempts = attempts + 1
       WHERE generation_id = :id
       RETURNING *`,
    ),
    renew: sqlite.prepare(
      `UPDATE generation_jobs SET lease_expires_at = :until
       WHERE generation_id = :id AND lease_owner = :owner AND state = 'running'
       RETURNING cancel_requested`,
    ),
    dispatched: sqlite.prepare(
      `UPDATE generation_jobs SET dispatched_at = :now
       WHERE generation_id = :id AND lease_owner = :owner AND state = 'running'`,
    ),
    finish: sqlite.prepare(
      `UPDATE generation_jobs
       SET state = :state, finished_at = :now, lease_owner = NULL, lease_expires_at = NULL
       WHERE generation_id = :id AND lease_owner = :owner AND state = 'running'`,
    ),
    requeue: sqlite.prepare(
      `UPDATE generation_jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL
       WHERE generation_id = :id AND lease_owner = :owner AND state = 'running'
         AND dispatched_at IS NULL`,
    ),
    get: sqlite.prepare('SELECT * FROM generation_jobs WHERE generation_id = :id'),
    cancelQueued: sqlite.prepare(
      `UPDATE generation_jobs SET state = 'cancelled', finished_at = :now, cancel_requested = 1
       WHERE generation_id = :id AND state = 'queued' RETURNING *`,
    ),
    flagRunning: sqlite.prepare(
      `UPDATE generation_jobs SET cancel_requested = 1
       WHERE generation_id = :id AND state = 'running' RETURNING *`,
    ),
    counts: sqlite.prepare('SELECT state, count(*) AS count FROM generation_jobs GROUP BY state'),
  }
  const get = (id: string) => {
    const row = statements.get.get({ id }) as JobRecord | undefined
    return row ? toJob(row, true) : undefined
  }

  const claim = sqlite.transaction(
    (owner: string, limit: number, until: number, perWorkspace: number, now: number) => {
      const claimed: JobRecord[] = []
      while (claimed.length < limit) {
        const next = statements.candidate.get({ now, perWorkspace }) as
          | { generation_id: string }
          | undefined
        if (!next) {
          break
        }
        claimed.push(statements.take.get({ id: next.generation_id, owner, until }) as JobRecord)
      }
      return claimed
    },
  )
  const renew = sqlite.transaction((owner: string, ids: readonly string[], until: number) => {
    const held: string[] = []
    const cancelRequested: string[] = []
    for (const id of ids) {
      const row = statements.renew.get({ id, owner, until }) as
        | { cancel_requested: number }
        | undefined
      if (row) {
        held.push(id)
        if (row.cancel_requested) {
          cancelRequested.push(id)
        }
      }
    }
    return { held, cancelRequested }
  })
  const cancel = sqlite.transaction((workspaceId: string, id: string, now: number) => {
    const job = get(id)
    if (!job || job.workspaceId !== workspaceId) {
      return { outcome: 'not_found' } as const
    }
    if (FINAL_STATES.includes(job.state)) {
      return { outcome: 'finished', job } as const
    }
    const queued = statements.cancelQueued.get({ id, now }) as JobRecord | undefined
    if (queued) {
      return { outcome: 'cancelled', job: toJob(queued, true) } as const
    }
    const running = statements.flagRunning.get({ id }) as JobRecord
    return { outcome: 'requested', job: toJob(running, true) } as const
  })

  return {
    async enqueue(job, now) {
      statements.insert.run({ ...job, payload: JSON.stringify(job.payload), now })
    },
    accept({ job, generation, hold }, now) {
      return ledger.commit(() => {
        const reservation = hold
          ? ledger.core.reserve(job.workspaceId, hold.amount, hold.reference, {
              ...(hold.model === undefined ? {} : { model: hold.model }),
              ...(hold.supersedes === undefined ? {} : { supersedes: hold.supersedes }),
            })
          : undefined
        const row = insertGeneration(generation)
        statements.insert.run({
          ...job,
          payload: JSON.stringify(job.payload),
          reservationId: reservation?.id ?? null,
          now,
        })
        return { generation: row, reservation }
      })
    },
    async claim(owner, options) {
      if (options.limit < 1) {
        return []
      }
      const rows = claim.immediate(
        owner,
        options.limit,
        options.now + options.leaseMs,
        options.perWorkspace,
        options.now,
      )
      return rows.map((row) => toJob(row, true))
    },
    async renew(owner, ids, leaseUntil) {
      return ids.length === 0 ? { held: [], cancelRequested: [] } : renew(owner, ids, leaseUntil)
    },
    async markDispatched(owner, id, now) {
      return statements.dispatched.run({ id, owner, now }).changes === 1
    },
    async finish(owner, id, state, now) {
      return statements.finish.run({ id, owner, state, now }).changes === 1
    },
    async requeue(owner, id) {
      return statements.requeue.run({ id, owner }).changes === 1
    },
    async cancel(workspaceId, id, now): Promise<CancelOutcome> {
      return cancel.immediate(workspaceId, id, now)
    },
    async get(id) {
      return get(id)
    },
    async counts() {
      const counts = emptyCounts()
      for (const row of statements.counts.all() as { state: JobState; count: number }[]) {
        counts[row.state] = row.count
      }
      return counts
    },
    async close() {},
  }
}
