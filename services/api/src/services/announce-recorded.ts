import type { JobQueue } from '../db/jobs/job-queue.ts'
import type { AssetsRepository, GenerationsRepository } from '../db/ports.ts'
import type { FinishedGeneration, WebhookAssetRef } from '../webhooks/events.ts'
import { assetContentPath } from './asset-dto.ts'
import { fromPayload } from './jobs/payload.ts'

export type AnnounceRecordedDeps = {
  generationsRepo: Pick<GenerationsRepository, 'get'>
  assetsRepo: Pick<AssetsRepository, 'get'>
  queue: Pick<JobQueue, 'get'>
  announce: (generation: FinishedGeneration) => Promise<void>
}

/** A generation that reached a final status, by id: what is announced is read from its record. */
export type RecordedEnd = {
  generationId: string
  workspaceId: string
  status: FinishedGeneration['status']
}

/**
 * The webhook announcement of a generation that reached its final status, built from its record
 * as it now stands: its assets, its error, and the request's `webhook_url` (kept on the record;
 * a job accepted before the record kept it has it in its request). Used where the generation's
 * end was not seen in memory: a job's end (services/jobs, by whoever moved the job row there)
 * and the recovery of an announcement that was never written (webhook-recovery.ts).
 */
export async function announceRecorded(
  deps: AnnounceRecordedDeps,
  end: RecordedEnd,
): Promise<void> {
  const { generationId, workspaceId, status } = end
  const generation = await deps.generationsRepo.get(workspaceId, generationId)
  if (!generation) {
    return
  }
  let webhookUrl = generation.webhookUrl ?? undefined
  if (webhookUrl === undefined) {
    const job = await deps.queue.get(generationId)
    webhookUrl = job ? fromPayload(job.payload).prepared.input.webhookUrl : undefined
  }
  const assets: WebhookAssetRef[] = []
  if (status === 'succeeded') {
    for (const assetId of generation.assetIds) {
      const asset = await deps.assetsRepo.get(workspaceId, assetId)
      if (asset) {
        assets.push({ assetId, contentHash: asset.contentHash, cdnUrl: assetContentPath(assetId) })
      }
    }
  }
  const error = generation.error as { code?: unknown; message?: unknown } | null
  await deps.announce({
    id: generationId,
    workspaceId,
    status,
    operation: generation.operation,
    model: generation.model,
    assets,
    error:
      status === 'failed'
        ? {
            code: typeof error?.code === 'string' ? error.code : 'internal_error',
            message: typeof error?.message === 'string' ? error.message : 'The generation failed',
          }
        : null,
    webhookUrl,
  })
}
