import type { JobQueue } from '../../db/jobs/job-queue.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import type { ChargeContext } from '../generation/billing.ts'
import type { GenerationPipeline } from '../generation/pipeline.ts'
import { queuedRow, type RecordDeps } from '../generation/record.ts'
import type { PreparedGeneration } from '../generation/types.ts'
import { toPayload } from './payload.ts'

export type AcceptDeps = RecordDeps & {
  mockImages: boolean
  generation: Pick<GenerationPipeline, 'holdForJob'>
  queue: JobQueue
}

/**
 * Accepts a prepared generation as a job: the images are spent from the caller's rate limits,
 * then the worst case is held, the record written `queued` and the job row made durable in one
 * commit (JobQueue.accept), so a crash leaves either all three or none. 429 and 402 answer at
 * once; a refusal for credits leaves its record, as any refusal does.
 */
export async function acceptJob(
  deps: AcceptDeps,
  prepared: PreparedGeneration,
  charge: ChargeContext | undefined,
): Promise<GenerationRow> {
  const generationId = deps.ids('gen')
  const { generation } = await deps.generation.holdForJob(
    prepared,
    charge,
    `job:${generationId}`,
    (hold) =>
      deps.queue.accept(
        {
          job: { generationId, workspaceId: prepared.workspaceId, payload: toPayload(prepared) },
          generation: queuedRow(deps, prepared, generationId),
          hold,
        },
        deps.clock.now().getTime(),
      ),
  )
  return generation
}
