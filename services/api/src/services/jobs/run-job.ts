import type { FinalJobState, Job, JobQueue } from '../../db/jobs/job-queue.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import type { Clock } from '../../ids.ts'
import type { GenerationPipeline } from '../generation/pipeline.ts'
import { type RecordDeps, recordStopped } from '../generation/record.ts'
import { fromPayload } from './payload.ts'
import { CUT_OFF_AFTER_DISPATCH, JobStopped, stoppedBy } from './stop-reasons.ts'

/** A job that reached its final state: the one place that happens (webhooks hang off it). */
export type JobFinished = {
  generationId: string
  workspaceId: string
  state: FinalJobState
}

export type RunJobDeps = RecordDeps & {
  generation: Pick<GenerationPipeline, 'resume' | 'complete' | 'closeCutOff'>
  generationsRepo: {
    get(
      workspaceId: string,
      id: string,
    ): Promise<Pick<GenerationRow, 'status' | 'costCents' | 'assetIds'> | undefined>
  }
  queue: JobQueue
  clock: Clock
  /** Called once per job, after its final state is written. */
  onFinished?: (finished: JobFinished) => void | Promise<void>
}

/**
 * Runs one claimed job to its end. The provider is called at most once per job: the dispatched
 * mark is written (and must succeed) right before the call, and a job claimed with that mark
 * already set (its earlier worker died mid-call) is never sent again, only closed: charged if
 * its record says it succeeded, released and failed otherwise. Credits settle through the
 * reservation held at acceptance, so however many workers touch a job, it is charged once.
 */
export async function runJob(
  deps: RunJobDeps,
  owner: string,
  job: Job,
  signal: AbortSignal,
): Promise<void> {
  const { generationId, workspaceId } = job
  const now = () => deps.clock.now().getTime()
  const finish = async (state: FinalJobState) => {
    if (await deps.queue.finish(owner, generationId, state, now())) {
      await deps.onFinished?.({ generationId, workspaceId, state })
    }
  }

  if (job.dispatchedAt !== null) {
    const generation = await deps.generationsRepo.get(workspaceId, generationId)
    await deps.generation.closeCutOff(job.reservationId, generation)
    if (generation?.status === 'succeeded') {
      return finish('succeeded')
    }
    await recordStopped(deps, generationId, 'failed', CUT_OFF_AFTER_DISPATCH)
    return finish('failed')
  }
  if (job.cancelRequested) {
    await deps.generation.closeCutOff(job.reservationId, undefined)
    await recordStopped(deps, generationId, 'cancelled', null)
    return finish('cancelled')
  }

  const { prepared } = fromPayload(job.payload)
  const held = await deps.generation.resume(prepared, job.reservationId)
  let leaseLost = false
  const lostLease = () => leaseLost || stoppedBy(signal) === 'lease_lost'
  try {
    await deps.generation.complete(
      {
        ...held,
        // A worker that lost the lease leaves the hold to the job's next owner.
        release: () => (lostLease() ? Promise.resolve() : held.release()),
      },
      {
        generationId,
        signal,
        async beforeDispatch() {
          if (signal.aborted) {
            throw signal.reason
          }
          if (!(await deps.queue.markDispatched(owner, generationId, now()))) {
            leaseLost = true
            throw new JobStopped('lease_lost')
          }
        },
      },
    )
    await finish('succeeded')
  } catch {
    if (lostLease()) {
      return
    }
    if (stoppedBy(signal) === 'cancelled') {
      await recordStopped(deps, generationId, 'cancelled', null)
      return finish('cancelled')
    }
    // The executor recorded the failure and the pipeline released the hold.
    await finish('failed')
  }
}
