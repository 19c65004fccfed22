import type { JobQueue } from '../../db/jobs/job-queue.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import type { ChargeContext } from '../generation/billing.ts'
import type { GenerationPipeline } from '../generation/pipeline.ts'
import { type RecordDeps, recordQueued, recordStopped } from '../generation/record.ts'
import type { PreparedGeneration } from '../generation/types.ts'
import { toPayload } from './payload.ts'

export type AcceptDeps = RecordDeps & {
  mockImages: boolean
  generation: Pick<GenerationPipeline, 'holdForJob' | 'closeCutOff'>
  queue: JobQueue
}

/**
 * Accepts a prepared generation as a job: the images are spent from the caller's rate limits
 * and the worst case is held now (429 and 402 answer at once), the record is written `queued`,
 * and the job row makes it durable. A crash between the hold and the job row leaves a hold no
 * job names, which the stale-hold sweep gives back, and a `queued` record no job names, which
 * the start-up sweep marks failed.
 */
export async function acceptJob(
  deps: AcceptDeps,
  prepared: PreparedGeneration,
  charge: ChargeContext | undefined,
): Promise<GenerationRow> {
  const generationId = deps.ids('gen')
  const reservationId =
    (await deps.generation.holdForJob(prepared, charge, `job:${generationId}`)) ?? null
  try {
    const generation = await recordQueued(deps, prepared, generationId)
    await deps.queue.enqueue(
      {
        generationId,
        workspaceId: prepared.workspaceId,
        payload: toPayload(prepared),
        reservationId,
      },
      deps.clock.now().getTime(),
    )
    return generation
  } catch (err) {
    await deps.generation.closeCutOff(reservationId, undefined)
    await recordStopped(deps, generationId, 'failed', {
      code: 'internal_error',
      message: 'The job could not be queued; nothing was charged',
    })
    throw err
  }
}
