import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { JobQueue } from '../../db/jobs/job-queue.ts'
import type { GenerationsRepository } from '../../db/ports.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import { type AnnounceRecordedDeps, announceRecorded } from '../announce-recorded.ts'
import type { ChargeContext } from '../generation/billing.ts'
import type { GenerationPipeline } from '../generation/pipeline.ts'
import type { RecordDeps } from '../generation/record.ts'
import type { PreparedGeneration } from '../generation/types.ts'
import { acceptJob } from './accept.ts'
import { cancelJob } from './cancel.ts'
import { type JobFinished, runJob } from './run-job.ts'
import { createJobWorker, type JobWorkerOptions } from './worker.ts'

export type JobsDeps = RecordDeps & {
  mockImages: boolean
  generation: GenerationPipeline
  generationsRepo: Pick<GenerationsRepository, 'get'>
  queue: JobQueue
  log: Logger
  assetsRepo: AnnounceRecordedDeps['assetsRepo']
  /**
   * Writes the webhook deliveries of a generation that reached its final status: called once
   * per job, after its final state is written (succeeded, failed or cancelled).
   */
  announce?: AnnounceRecordedDeps['announce']
}

export type JobsOptions = Omit<JobWorkerOptions, 'owner'>

/** How long POST …/cancel waits for a job this instance runs to stop before it answers. */
const CANCEL_WAIT_MS = 5000

/**
 * Asynchronous generations (`Prefer: respond-async`): accepted into a durable queue, run by
 * this instance's worker (or any other instance's, on a shared database), cancellable.
 */
export function createJobs(deps: JobsDeps, options: JobsOptions) {
  const owner = `wrk_${randomUUID()}`
  const { announce } = deps
  const onFinished = announce
    ? (finished: JobFinished) =>
        announceRecorded(
          { ...deps, announce },
          {
            generationId: finished.generationId,
            workspaceId: finished.workspaceId,
            status: finished.state,
          },
        ).catch((err: unknown) => {
          // The job has ended either way; the recovery pass writes the announcement later.
          deps.log.error({ err, generationId: finished.generationId }, 'job not announced')
        })
    : undefined
  const worker = createJobWorker(
    {
      queue: deps.queue,
      clock: deps.clock,
      log: deps.log,
      run: (job, signal) => runJob({ ...deps, onFinished }, owner, job, signal),
    },
    { ...options, owner },
  )
  return {
    worker,
    async accept(
      prepared: PreparedGeneration,
      charge: ChargeContext | undefined,
    ): Promise<GenerationRow> {
      const generation = await acceptJob(deps, prepared, charge)
      worker.notify()
      return generation
    },
    cancel(workspaceId: string, generationId: string): Promise<GenerationRow> {
      return cancelJob(
        { ...deps, onFinished, worker, waitMs: CANCEL_WAIT_MS },
        workspaceId,
        generationId,
      )
    },
  }
}

export type Jobs = ReturnType<typeof createJobs>
