/**
 * The durable queue of asynchronous generations: one port, an adapter per database
 * (sqlite-job-queue.ts embedded, pg-job-queue.ts scaled out), one test suite both pass
 * (testing/describe-job-queue.ts).
 *
 * A job's states: queued → running → succeeded | failed | cancelled, and queued → cancelled.
 * `running` holds a lease (owner, expiry) that its worker renews; a lease that runs out makes
 * the job claimable again. Times are epoch milliseconds given by the caller, so every instance
 * and every test judges a lease by the same clock it was written with.
 */
import type { Reservation } from '../../access/ledger-types.ts'
import type { GenerationRow, NewGeneration } from '../schema/index.ts'

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'
export type FinalJobState = 'succeeded' | 'failed' | 'cancelled'

export type NewJob = {
  generationId: string
  workspaceId: string
  /** What the worker runs, as plain JSON. */
  payload: unknown
  /** The credit hold taken at acceptance; null for a free model. */
  reservationId: string | null
}

export type Job = NewJob & {
  state: JobState
  attempts: number
  leaseOwner: string | null
  leaseExpiresAt: number | null
  /** When the provider call was about to start; null until then. */
  dispatchedAt: number | null
  cancelRequested: boolean
  createdAt: number
  finishedAt: number | null
}

/** The credit hold a job is accepted with: what Ledger.reserve takes, for the job's workspace. */
export type JobHold = {
  amount: number
  reference: string
  model?: string
  /** An earlier attempt's reference whose hold, if still held, is released in the same commit. */
  supersedes?: string
}

/** A job to accept: its row, its generation's queued record, and the hold it runs on, if any. */
export type AcceptedJob = {
  job: Omit<NewJob, 'reservationId'>
  generation: NewGeneration
  hold: JobHold | undefined
}

export type ClaimOptions = {
  /** Claim at most this many jobs. */
  limit: number
  /** Each claimed job's lease runs out at now + leaseMs unless renewed. */
  leaseMs: number
  /** No claim leaves a workspace with more than this many running jobs (live leases). */
  perWorkspace: number
  now: number
}

export type CancelOutcome =
  /** It was queued: now cancelled, nothing ran; its hold is the caller's to release. */
  | { outcome: 'cancelled'; job: Job }
  /** It is running: flagged; its worker sees the flag at its next renewal and stops. */
  | { outcome: 'requested'; job: Job }
  /** It had already finished; nothing changed. */
  | { outcome: 'finished'; job: Job }
  | { outcome: 'not_found' }

export type JobQueue = {
  enqueue(job: NewJob, now: number): Promise<void>
  /**
   * Accepts a job in one commit: the credit hold (as Ledger.reserve makes it), the generation's
   * queued record and the job row naming the hold, so an accepted job is never without its
   * hold nor a hold without its job. A hold refused (InsufficientCreditsError,
   * ReservationConflictError) writes none of them. One commit rather than three is also what
   * makes the 202 fast: on SQLite it is the one fsync of the accept.
   */
  accept(
    accepted: AcceptedJob,
    now: number,
  ): Promise<{ generation: GenerationRow; reservation: Reservation | undefined }>
  /**
   * Takes the oldest claimable jobs for `owner`, oldest first: queued ones, and running ones
   * whose lease ran out (their worker died). Each comes back with its `attempts` counted and
   * its `dispatchedAt` as the earlier claim left it. Two claimers never get the same job.
   */
  claim(owner: string, options: ClaimOptions): Promise<Job[]>
  /**
   * Extends the leases `owner` still holds among `ids` to `leaseUntil`. Answers which it held
   * and which of those a caller asked to cancel.
   */
  renew(
    owner: string,
    ids: readonly string[],
    leaseUntil: number,
  ): Promise<{ held: string[]; cancelRequested: string[] }>
  /**
   * Records, durably, that the provider is about to be called for this job; false when `owner`
   * no longer holds it (it must not call the provider then).
   */
  markDispatched(owner: string, generationId: string, now: number): Promise<boolean>
  /** Ends a running job `owner` holds; false when it no longer held it (nothing changed). */
  finish(owner: string, generationId: string, state: FinalJobState, now: number): Promise<boolean>
  /** Gives a running job that never reached its provider back to the queue (a shutdown). */
  requeue(owner: string, generationId: string): Promise<boolean>
  cancel(workspaceId: string, generationId: string, now: number): Promise<CancelOutcome>
  get(generationId: string): Promise<Job | undefined>
  /** How many jobs are in each state (metrics, the bench). */
  counts(): Promise<Record<JobState, number>>
  close(): Promise<void>
}
