import type { AttemptRecord } from '../../providers/resilience/execute.ts'
import { createSingleflight } from '../../providers/resilience/singleflight.ts'
import type { GenerateImagesResult } from '../../providers/types.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import { releaseArrayBuffers } from '../../storage/release-buffers.ts'
import type { FinishedGeneration } from '../../webhooks/events.ts'
import { assetContentPath } from '../asset-dto.ts'
import type { AssetService } from '../assets.ts'
import {
  type CallResult,
  type DispatchDeps,
  dispatch,
  isFailedCall,
  runtimeFor,
} from './dispatch.ts'
import { DEFAULT_PARAMS, explainFailure, toAppError } from './failures.ts'
import { type InputDeps, type PreparedInputs, prepareInputs } from './inputs.ts'
import {
  type RecordDeps,
  recordFailure,
  recordRefusal,
  recordRunning,
  recordSuccess,
  roundMs,
  sha256Hex,
} from './record.ts'
import { storeImages } from './store-images.ts'
import type { GenerationOutcome, PartialImageSink, PreparedGeneration } from './types.ts'
import { combineUpstreamReports } from './upstream-reports.ts'

/** How a job runs its generation (services/jobs): on its queued record, stoppable, marked. */
export type JobRun = {
  /** The record made when the job was accepted. */
  generationId: string
  /** Aborts the provider call: the job was cancelled or its worker lost the lease. */
  signal: AbortSignal
  /** Records durably that the provider is about to be called; throws to stop before it is. */
  beforeDispatch(): Promise<void>
}

export type ExecuteDeps = DispatchDeps &
  RecordDeps & {
    assets: AssetService
    repo: InputDeps['repo'] & RecordDeps['repo']
    /**
     * Writes the webhook deliveries of a generation that reached its final status (the outbox),
     * before its answer is sent. Not for a job's: its final state is the job's to decide (a
     * cancel, a lost lease), and services/jobs announces it once the job row has ended.
     */
    announce?: (generation: FinishedGeneration) => Promise<void>
  }

/**
 * Runs a prepared generation: loads its input images, records it running, calls the provider,
 * stores what came back and records the result. Credits are not its business (pipeline.ts).
 */
export function createExecutor(deps: ExecuteDeps) {
  const inFlight = createSingleflight<GenerationOutcome>()

  async function run(
    prepared: PreparedGeneration,
    job?: JobRun,
    partials?: PartialImageSink,
  ): Promise<GenerationOutcome> {
    const started = performance.now()
    const { workspaceId, input, model, plan } = prepared
    let runtime: ReturnType<typeof runtimeFor>
    let inputs: PreparedInputs
    try {
      runtime = runtimeFor(deps, model)
      inputs = await prepareInputs(deps, workspaceId, model, runtime.provider.name, input, {
        ...DEFAULT_PARAMS,
        ...input.params,
      })
    } catch (err) {
      if (job) {
        await recordFailure(deps, job.generationId, model.id, [], err, performance.now() - started)
      } else {
        await recordRefusal(deps, workspaceId, input, err)
      }
      throw err
    }
    const provider = runtime.provider.name
    const id = await recordRunning(deps, prepared, provider, inputs, job?.generationId)
    const attempts: AttemptRecord[] = []
    const announce = job ? undefined : deps.announce
    const announced = {
      id,
      workspaceId,
      operation: input.operation,
      model: model.id,
      webhookUrl: input.webhookUrl,
    }
    const failed = async (err: unknown) => {
      const error = explainFailure(err, inputs.chain, input.params)
      await recordFailure(deps, id, model.id, attempts, error, performance.now() - started)
      const { code, message } = toAppError(error)
      await announce?.({
        ...announced,
        status: 'failed',
        assets: [],
        error: { code, message },
      })
      return error
    }

    const upstreamStarted = performance.now()
    let results: CallResult[]
    try {
      await job?.beforeDispatch()
      results = await dispatch(
        deps,
        runtime,
        prepared,
        inputs,
        (record) => attempts.push(record),
        job?.signal,
        partials,
      )
    } catch (err) {
      throw await failed(err)
    }
    // Reading the answers happened inside the calls, but it is imagegate's time, not the provider's.
    let upstreamMs = performance.now() - upstreamStarted
    const warnings = [...plan.warnings]
    const answers: GenerateImagesResult[] = []
    let sentText: string | undefined
    let modelTurns: unknown[] = []
    for (const result of results) {
      if (isFailedCall(result)) {
        continue
      }
      upstreamMs -= result.processingMs ?? 0
      warnings.push(...result.warnings.filter((warning) => !warnings.includes(warning)))
      answers.push(result)
      if (result.modelTurn !== undefined) {
        modelTurns = [...modelTurns, result.modelTurn]
      }
      sentText ??= result.sentText
    }

    const { images, imageIndexes, firstFailure } = await storeImages(
      deps,
      workspaceId,
      input,
      results,
      provider,
    )
    if (images.length === 0) {
      throw await failed(
        firstFailure ??
          new UpstreamFailure('bad_response', provider, 'The provider returned no image'),
      )
    }
    if (firstFailure) {
      warnings.push(
        `${plan.n - images.length} of ${plan.n} images failed: ${toAppError(firstFailure, input.params).message}`,
      )
    }

    const { usage, reported } = combineUpstreamReports(answers)
    const generation = await recordSuccess(deps, id, {
      model: model.id,
      provider,
      assetIds: images.map((image) => image.asset.id),
      imageIndexes,
      attempts,
      warnings,
      costCents: deps.mockImages ? 0 : Math.round(plan.unitCostCents * images.length * 1000) / 1000,
      usage,
      modelTurns,
      sentText,
      upstreamMs,
      totalMs: performance.now() - started,
    })
    await announce?.({
      ...announced,
      status: 'succeeded',
      assets: images.map(({ asset }) => ({
        assetId: asset.id,
        contentHash: asset.contentHash,
        cdnUrl: assetContentPath(asset.id),
      })),
      error: null,
    })
    // Every image's, stored or not: none of it is read after the answer.
    const owned = results.flatMap((result) =>
      isFailedCall(result) ? [] : result.images.flatMap((image) => image.ownedBuffers ?? []),
    )
    return {
      generation,
      images,
      model,
      plan: { ...plan, warnings },
      ...(usage ? { usage } : {}),
      ...(reported ? { reported } : {}),
      upstreamMs: roundMs(upstreamMs),
      overheadMs: roundMs(performance.now() - started - upstreamMs),
      ...(owned.length > 0 ? { releaseBuffers: () => releaseArrayBuffers(owned) } : {}),
    }
  }

  /**
   * Identical in-flight requests with an explicit seed share one upstream call (the answer is
   * deterministic, so calling twice buys nothing); a job runs on its own record, unshared, and
   * so does a streamed one, whose partial images go to `partials`. Failures come out in the
   * error table's terms.
   */
  return async function execute(
    prepared: PreparedGeneration,
    job?: JobRun,
    partials?: PartialImageSink,
  ): Promise<GenerationOutcome> {
    const { workspaceId, input } = prepared
    try {
      if (input.seed === undefined || job || partials) {
        return await run(prepared, job, partials)
      }
      const key = sha256Hex(JSON.stringify([workspaceId, input]))
      // Shared with whoever joined: its memory is left to the garbage collector.
      const { releaseBuffers: _shared, ...outcome } = await inFlight.do(key, () =>
        run(prepared, undefined),
      )
      return outcome
    } catch (err) {
      throw toAppError(err, input.params)
    }
  }
}

export type Execute = ReturnType<typeof createExecutor>
