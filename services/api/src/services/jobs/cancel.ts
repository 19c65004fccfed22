import type { JobQueue } from '../../db/jobs/job-queue.ts'
import type { GenerationsRepository } from '../../db/ports.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import { AppError, NotFoundError } from '../../errors/app-error.ts'
import type { GenerationPipeline } from '../generation/pipeline.ts'
import { type RecordDeps, recordStopped } from '../generation/record.ts'
import type { JobFinished } from './run-job.ts'
import type { JobWorker } from './worker.ts'

export type CancelDeps = RecordDeps & {
  queue: JobQueue
  worker: Pick<JobWorker, 'cancel'>
  generation: Pick<GenerationPipeline, 'closeCutOff'>
  generationsRepo: Pick<GenerationsRepository, 'get'>
  onFinished?: (finished: JobFinished) => void | Promise<void>
  /** How long a cancel waits for a job this instance runs to stop. */
  waitMs: number
}

/**
 * Cancels a job. Queued: it is cancelled at once and its hold released; nothing was called.
 * Running: its provider call is aborted (at once when this instance runs it, at its worker's
 * next heartbeat otherwise) and it ends `cancelled` with nothing charged, unless the provider
 * answered first, in which case it ends `succeeded` and is charged as usual. Answers the record
 * as it stands when the job stopped, or after `waitMs`. A generation that has finished, or
 * that ran within its request (no job), answers 409 generation_not_cancellable.
 */
export async function cancelJob(
  deps: CancelDeps,
  workspaceId: string,
  generationId: string,
): Promise<GenerationRow> {
  const cancelled = await deps.queue.cancel(workspaceId, generationId, deps.clock.now().getTime())
  const record = async () => {
    const row = await deps.generationsRepo.get(workspaceId, generationId)
    if (!row) {
      throw new NotFoundError('generation', generationId)
    }
    return row
  }
  switch (cancelled.outcome) {
    case 'not_found':
    case 'finished': {
      const row = await record()
      throw new AppError(
        'generation_not_cancellable',
        cancelled.outcome === 'finished' || !['queued', 'running'].includes(row.status)
          ? `Generation ${generationId} has already finished (${row.status})`
          : `Generation ${generationId} runs within its request; only a generation accepted with Prefer: respond-async can be cancelled`,
      )
    }
    case 'cancelled': {
      await deps.generation.closeCutOff(cancelled.job.reservationId, undefined)
      const row = await recordStopped(deps, generationId, 'cancelled', null)
      await deps.onFinished?.({ generationId, workspaceId, state: 'cancelled' })
      return row ?? (await record())
    }
    case 'requested': {
      const stopped = deps.worker.cancel(generationId)
      if (stopped) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          stopped,
          new Promise((resolve) => {
            timer = setTimeout(resolve, deps.waitMs)
          }),
        ])
        clearTimeout(timer)
      }
      return await record()
    }
  }
}
