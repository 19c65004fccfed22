import type { JobQueue } from '../../db/jobs/job-queue.ts'
import type { AssetsRepository, GenerationsRepository } from '../../db/ports.ts'
import type { FinishedGeneration, WebhookAssetRef } from '../../webhooks/events.ts'
import { assetContentPath } from '../asset-dto.ts'
import { fromPayload } from './payload.ts'
import type { JobFinished } from './run-job.ts'

export type AnnounceJobDeps = {
  generationsRepo: Pick<GenerationsRepository, 'get'>
  assetsRepo: Pick<AssetsRepository, 'get'>
  queue: Pick<JobQueue, 'get'>
  announce: (generation: FinishedGeneration) => Promise<void>
}

/**
 * The webhook announcement of a job that reached its final state, from its record as it now
 * stands and the request it was accepted with (its `webhook_url`). Called once per job: only
 * by whoever moved the job row to that state (a worker's finish, a cancel of a queued job), so
 * a job announces once however many workers touched it.
 */
export async function announceJob(deps: AnnounceJobDeps, finished: JobFinished): Promise<void> {
  const { generationId, workspaceId, state } = finished
  const [generation, job] = await Promise.all([
    deps.generationsRepo.get(workspaceId, generationId),
    deps.queue.get(generationId),
  ])
  if (!generation) {
    return
  }
  const assets: WebhookAssetRef[] = []
  if (state === 'succeeded') {
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
    status: state,
    operation: generation.operation,
    model: generation.model,
    assets,
    error:
      state === 'failed'
        ? {
            code: typeof error?.code === 'string' ? error.code : 'internal_error',
            message: typeof error?.message === 'string' ? error.message : 'The generation failed',
          }
        : null,
    webhookUrl: job ? fromPayload(job.payload).prepared.input.webhookUrl : undefined,
  })
}
