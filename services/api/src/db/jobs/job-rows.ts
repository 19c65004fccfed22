import type { Job, JobState } from './job-queue.ts'

/** A generation_jobs row as either driver returns it (snake_case; SQLite's booleans are 0/1). */
export type JobRecord = {
  generation_id: string
  workspace_id: string
  state: JobState
  payload: unknown
  reservation_id: string | null
  attempts: number
  lease_owner: string | null
  lease_expires_at: number | string | null
  dispatched_at: number | string | null
  cancel_requested: number | boolean
  created_at: number | string
  finished_at: number | string | null
}

const instant = (value: number | string | null) => (value === null ? null : Number(value))

/** node-postgres reads bigint as a string and jsonb as parsed JSON; SQLite reads JSON as text. */
export function toJob(row: JobRecord, payloadIsText: boolean): Job {
  return {
    generationId: row.generation_id,
    workspaceId: row.workspace_id,
    state: row.state,
    payload: payloadIsText ? JSON.parse(row.payload as string) : row.payload,
    reservationId: row.reservation_id,
    attempts: Number(row.attempts),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: instant(row.lease_expires_at),
    dispatchedAt: instant(row.dispatched_at),
    cancelRequested: Boolean(row.cancel_requested),
    createdAt: Number(row.created_at),
    finishedAt: instant(row.finished_at),
  }
}

export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled']

export const emptyCounts = (): Record<JobState, number> => ({
  queued: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
})
