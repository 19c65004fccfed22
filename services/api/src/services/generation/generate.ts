import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import type { Catalog } from '../../catalog/catalog.ts'
import { type ModelEntry, usesStrictContent } from '../../catalog/model-entry.ts'
import type { GenerationsRepository } from '../../db/repositories/generations.ts'
import type { AssetRow, GenerationRow } from '../../db/schema/index.ts'
import { AppError } from '../../errors/app-error.ts'
import type { HttpMetrics } from '../../http/middleware/metrics.ts'
import type { Clock, IdGenerator } from '../../ids.ts'
import { assertIntact } from '../../images/integrity.ts'
import type { Random } from '../../providers/resilience/backoff.ts'
import type { CircuitBreaker } from '../../providers/resilience/circuit-breaker.ts'
import {
  type AttemptRecord,
  executeWithRetry,
  UpstreamCallFailed,
} from '../../providers/resilience/execute.ts'
import type { RetryBudget } from '../../providers/resilience/retry-budget.ts'
import { createSingleflight } from '../../providers/resilience/singleflight.ts'
import type { Sleep } from '../../providers/resilience/sleep.ts'
import type {
  GenerateImagesResult,
  ImageProvider,
  ProviderImage,
  ProviderName,
} from '../../providers/types.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import { missingThoughtSignatureError } from '../../refinement/gemini-errors.ts'
import { fromRefinementError } from '../../refinement/to-app-error.ts'
import type { InputImageRef } from '../../refinement/types.ts'
import type { ImageGenerationRequest } from '../../schemas/images.ts'
import { releaseArrayBuffers } from '../../storage/release-buffers.ts'
import type { AssetService } from '../assets.ts'
import { type InputParams, type PreparedInputs, prepareInputs } from './inputs.ts'
import { type GenerationPlan, planGeneration } from './plan.ts'
import { toUpstreamAppError } from './upstream-errors.ts'
import { combineUpstreamReports, type UpstreamReports } from './upstream-reports.ts'

export type ProviderRuntime = {
  provider: ImageProvider
  breaker: CircuitBreaker
  budget: RetryBudget
}

export type GenerationServiceDeps = {
  catalog: Catalog
  /** Providers that are configured; in mock mode every model is answered by `local`. */
  providers: ReadonlyMap<ProviderName, ProviderRuntime>
  mockImages: boolean
  assets: AssetService
  repo: GenerationsRepository
  ids: IdGenerator
  clock: Clock
  random: Random
  sleep: Sleep
  log: Logger
  metrics: Pick<HttpMetrics, 'images' | 'generationFailures'>
}

export type GenerationInput = Omit<
  ImageGenerationRequest,
  'response_format' | 'parent_generation_id' | 'parent_asset_id' | 'input_images'
> & {
  operation: 'generate' | 'edit' | 'skill'
  sourceTaskId?: string
  sourceAgentImUserId?: string
  /** Refine this generation's first image. */
  parentGenerationId?: string
  /** Refine this image of an earlier generation. */
  parentAssetId?: string
  /** Input images already in the asset store, in the order the prompt numbers them. */
  inputs?: InputImageRef[]
  /** Edits: the mask, stored as an asset (checked here: a PNG with alpha, the first image's size). */
  maskAssetId?: string
  /** OpenAI GPT Image edits. */
  inputFidelity?: 'high' | 'low'
  /** The request fields the references came in, for error messages (defaults: the JSON names). */
  params?: Partial<InputParams>
}

const DEFAULT_PARAMS: InputParams = {
  parentGenerationId: 'parent_generation_id',
  parentAssetId: 'parent_asset_id',
  inputs: 'input_images',
  mask: 'mask',
}

/** Any failure in the terms of the error table: refinement errors first, then upstream ones. */
function toAppError(err: unknown, params?: Partial<InputParams>): AppError {
  if (err instanceof AppError) {
    return err
  }
  const parentParam = params?.parentGenerationId ?? DEFAULT_PARAMS.parentGenerationId
  return fromRefinementError(err, parentParam) ?? toUpstreamAppError(err)
}

export type GeneratedImage = {
  asset: AssetRow
  bytes: Uint8Array
  /** `bytes` as standard base64, when the provider sent it that way (see ProviderImage). */
  base64?: ProviderImage['base64']
  revisedPrompt?: string
}

export type GenerationOutcome = {
  generation: GenerationRow
  images: GeneratedImage[]
  model: ModelEntry
  plan: GenerationPlan
  /** What the provider reported about the calls that answered (see combineUpstreamReports). */
  usage?: UpstreamReports['usage']
  reported?: UpstreamReports['reported']
  /** Time spent waiting for the provider (its calls, retries and backoff), answers' reading excluded. */
  upstreamMs: number
  /** Time spent outside the provider: parse, verify, hash, store, record. */
  overheadMs: number
  /**
   * Releases the memory the images were read from and decoded into (see
   * storage/release-buffers.ts): for the route, once the answer built from `images` has been
   * written in full. Absent on an outcome other requests may share.
   */
  releaseBuffers?: () => void
}

export function sha256Hex(text: string) {
  return createHash('sha256').update(text).digest('hex')
}

const CALLS_IN_PARALLEL = 4

function monthFolder(date: Date) {
  return `/generated/images/${date.toISOString().slice(0, 7)}`
}

export function createGenerationService(deps: GenerationServiceDeps) {
  const inFlight = createSingleflight<GenerationOutcome>()

  function runtimeFor(model: ModelEntry): ProviderRuntime {
    const runtime = deps.providers.get(deps.mockImages ? 'local' : model.provider)
    if (!runtime) {
      throw new AppError('model_not_found', `No provider configured for ${model.id}`, {
        param: 'model',
      })
    }
    return runtime
  }

  /** One provider call per chunk of at most `maxNPerCall` images, each with the retry policy. */
  async function dispatch(
    model: ModelEntry,
    plan: GenerationPlan,
    input: GenerationInput,
    prepared: PreparedInputs,
    onAttempt: (record: AttemptRecord) => void,
  ) {
    const { prompt } = input
    const runtime = runtimeFor(model)
    const [width = 1024, height = 1024] = plan.size.split('x').map(Number)
    const deadlineAt = deps.clock.now().getTime() + model.timeoutMs
    const chunks: number[] = []
    for (let left = plan.n; left > 0; left -= model.maxNPerCall) {
      chunks.push(Math.min(left, model.maxNPerCall))
    }
    const results: (GenerateImagesResult | UpstreamCallFailed | UpstreamFailure)[] = []
    for (let start = 0; start < chunks.length; start += CALLS_IN_PARALLEL) {
      const batch = chunks.slice(start, start + CALLS_IN_PARALLEL)
      const settled = await Promise.allSettled(
        batch.map((count, index) =>
          executeWithRetry(
            ({ signal }) =>
              runtime.provider.generate({
                upstreamModel: model.upstreamModel,
                prompt,
                n: count,
                size: { width, height },
                quality: plan.quality,
                ...plan.forwarded,
                // Distinct seeds per chunk, so fanned-out calls do not return the same image.
                ...(plan.forwarded.seed === undefined
                  ? {}
                  : { seed: plan.forwarded.seed + (start + index) * model.maxNPerCall }),
                ...(model.safetySettings ? { safetySettings: model.safetySettings } : {}),
                ...(prepared.images.length > 0 ? { inputs: prepared.images } : {}),
                ...(prepared.mask ? { mask: prepared.mask } : {}),
                ...(prepared.chain.length > 0 ? { chain: prepared.chain } : {}),
                ...(input.inputFidelity ? { inputFidelity: input.inputFidelity } : {}),
                maxTurns: model.maxTurns,
                strictContent: usesStrictContent(model),
                signal,
              }),
            {
              provider: runtime.provider.name,
              deadlineAt,
              clock: deps.clock,
              sleep: deps.sleep,
              random: deps.random,
              breaker: runtime.breaker,
              budget: runtime.budget,
              onAttempt,
            },
          ).then((result) => result.value),
        ),
      )
      for (const outcome of settled) {
        if (outcome.status === 'fulfilled') {
          results.push(outcome.value)
        } else if (
          outcome.reason instanceof UpstreamCallFailed ||
          outcome.reason instanceof UpstreamFailure
        ) {
          results.push(outcome.reason)
        } else {
          throw outcome.reason
        }
      }
    }
    return results
  }

  /**
   * Checks and stores one returned image; a bad one is the provider's fault. The integrity
   * check (the file's structure walked, its pixels not decoded: see images/integrity.ts) must
   * pass before the asset row is committed.
   */
  async function store(
    workspaceId: string,
    input: GenerationInput,
    image: ProviderImage,
    provider: ProviderName,
  ): Promise<GeneratedImage> {
    const verified = assertIntact(image.bytes).catch((err: unknown) => {
      throw new UpstreamFailure(
        'bad_response',
        provider,
        'The provider returned an image that does not decode',
        {
          cause: err,
        },
      )
    })
    const { asset } = await deps.assets.ingest(
      workspaceId,
      image.bytes,
      {
        kind: 'image',
        folderPath: monthFolder(deps.clock.now()),
        description: input.prompt.slice(0, 500),
        ...(input.sourceTaskId ? { sourceTaskId: input.sourceTaskId } : {}),
        ...(input.sourceAgentImUserId ? { sourceAgentImUserId: input.sourceAgentImUserId } : {}),
      },
      { verified },
    )
    return {
      asset,
      bytes: image.bytes,
      ...(image.base64 ? { base64: image.base64 } : {}),
      ...(image.revisedPrompt ? { revisedPrompt: image.revisedPrompt } : {}),
    }
  }

  /** A request refused before any provider was called still leaves its record. */
  function recordRefusal(workspaceId: string, input: GenerationInput, err: unknown) {
    const error = toAppError(err, input.params)
    const now = deps.clock.now().toISOString()
    const id = deps.ids('gen')
    deps.repo.insert({
      id,
      workspaceId,
      status: 'failed',
      operation: input.operation,
      prompt: input.prompt,
      promptHash: sha256Hex(input.prompt),
      model: input.model ?? deps.catalog.defaultModelId,
      provider: deps.catalog.models.find((entry) => entry.id === input.model)?.provider ?? 'none',
      size: input.size,
      seed: input.seed ?? null,
      n: input.n,
      parameters: { requestedSize: input.size, requestedN: input.n },
      assetIds: [],
      attempts: [],
      warnings: [],
      costCents: 0,
      error: { code: error.code, message: error.message },
      ...(input.parentGenerationId ? { parentGenerationId: input.parentGenerationId } : {}),
      ...(input.parentAssetId ? { parentAssetId: input.parentAssetId } : {}),
      inputAssetIds: (input.inputs ?? []).map((ref) => ref.assetId),
      ...(input.inputs ? { inputs: input.inputs } : {}),
      rootGenerationId: id,
      sourceTaskId: input.sourceTaskId ?? null,
      createdAt: now,
      finishedAt: now,
    })
    deps.metrics.generationFailures.inc({ model: input.model ?? 'default', code: error.code })
  }

  async function run(workspaceId: string, input: GenerationInput): Promise<GenerationOutcome> {
    const started = performance.now()
    let model: ModelEntry
    let plan: GenerationPlan
    let runtime: ProviderRuntime
    let prepared: PreparedInputs
    try {
      model = deps.catalog.resolve(input.model)
      plan = planGeneration(model, input)
      runtime = runtimeFor(model)
      prepared = await prepareInputs(deps, workspaceId, model, runtime.provider.name, input, {
        ...DEFAULT_PARAMS,
        ...input.params,
      })
    } catch (err) {
      recordRefusal(workspaceId, input, err)
      throw err
    }
    const createdAt = deps.clock.now()
    const id = deps.ids('gen')
    const attempts: AttemptRecord[] = []
    const promptHash = sha256Hex(input.prompt)
    deps.repo.insert({
      id,
      workspaceId,
      status: 'running',
      operation: input.operation,
      prompt: input.prompt,
      promptHash,
      model: model.id,
      provider: runtime.provider.name,
      size: plan.size,
      seed: plan.forwarded.seed ?? null,
      n: plan.n,
      parameters: {
        ...(input.quality ? { quality: input.quality } : {}),
        ...plan.forwarded,
        ...(plan.quality ? { resolvedQuality: plan.quality } : {}),
        requestedSize: input.size,
        requestedN: input.n,
      },
      assetIds: [],
      attempts: [],
      warnings: plan.warnings,
      costCents: 0,
      ...(prepared.parent
        ? {
            parentGenerationId: prepared.parent.generation.id,
            parentAssetId: prepared.parent.assetId,
          }
        : {}),
      inputAssetIds: prepared.refs.map((ref) => ref.assetId),
      ...(prepared.refs.length > 0 ? { inputs: prepared.refs } : {}),
      rootGenerationId: prepared.rootGenerationId ?? id,
      sourceTaskId: input.sourceTaskId ?? null,
      createdAt: createdAt.toISOString(),
    })

    const upstreamStarted = performance.now()
    let results: Awaited<ReturnType<typeof dispatch>>
    try {
      results = await dispatch(model, plan, input, prepared, (record) => attempts.push(record))
    } catch (err) {
      const error = explainFailure(err, prepared, input)
      fail(id, model, attempts, error, started)
      throw error
    }
    // Reading the answers happened inside the calls, but it is imagegate's time, not the provider's.
    let upstreamMs = performance.now() - upstreamStarted
    for (const result of results) {
      if (!(result instanceof UpstreamCallFailed || result instanceof UpstreamFailure)) {
        upstreamMs -= result.processingMs ?? 0
      }
    }

    const warnings = [...plan.warnings]
    const answers: GenerateImagesResult[] = []
    let sentText: string | undefined
    let modelTurns: unknown[] = []
    // Every image is stored at once; failures are then taken in the order the images came.
    const outcomes: (
      | { failure: unknown }
      | { stored: Promise<PromiseSettledResult<GeneratedImage>>; imageIndex: number }
    )[] = []
    let returned = 0
    for (const result of results) {
      if (result instanceof UpstreamCallFailed || result instanceof UpstreamFailure) {
        outcomes.push({ failure: result })
        continue
      }
      warnings.push(...result.warnings.filter((warning) => !warnings.includes(warning)))
      answers.push(result)
      if (result.modelTurn !== undefined) {
        modelTurns = [...modelTurns, result.modelTurn]
      }
      sentText ??= result.sentText
      for (const image of result.images) {
        const stored = store(workspaceId, input, image, runtime.provider.name)
        outcomes.push({ stored: settle(stored), imageIndex: returned++ })
      }
    }
    const images: GeneratedImage[] = []
    const imageIndexes: number[] = []
    let firstFailure: unknown
    for (const outcome of outcomes) {
      if ('failure' in outcome) {
        firstFailure ??= outcome.failure
        continue
      }
      const stored = await outcome.stored
      if (stored.status === 'fulfilled') {
        images.push(stored.value)
        imageIndexes.push(outcome.imageIndex)
      } else {
        firstFailure ??= stored.reason
      }
    }
    if (images.length === 0) {
      const error = explainFailure(
        firstFailure ??
          new UpstreamFailure(
            'bad_response',
            runtime.provider.name,
            'The provider returned no image',
          ),
        prepared,
        input,
      )
      fail(id, model, attempts, error, started)
      throw error
    }
    if (firstFailure) {
      warnings.push(
        `${plan.n - images.length} of ${plan.n} images failed: ${toAppError(firstFailure, input.params).message}`,
      )
    }

    const { usage, reported } = combineUpstreamReports(answers)
    const costCents = deps.mockImages
      ? 0
      : Math.round(plan.unitCostCents * images.length * 1000) / 1000
    const totalMs = performance.now() - started
    const finishedAt = deps.clock.now().toISOString()
    const generation = deps.repo.updateReturning(id, {
      status: 'succeeded',
      assetIds: images.map((image) => image.asset.id),
      attempts,
      warnings,
      costCents,
      ...(usage ? { usage: usage as Record<string, number> } : {}),
      timings: { upstreamMs: round(upstreamMs), totalMs: round(totalMs) },
      ...(modelTurns.length > 0 ? { modelTurn: modelTurns } : {}),
      ...(imageIndexes.some((imageIndex, at) => imageIndex !== at) ? { imageIndexes } : {}),
      ...(sentText === undefined ? {} : { sentText }),
      finishedAt,
    }) as GenerationRow
    deps.metrics.images.inc({ model: model.id, provider: runtime.provider.name }, images.length)
    // Every image's, stored or not: none of it is read after the answer.
    const owned = results.flatMap((result) =>
      result instanceof UpstreamCallFailed || result instanceof UpstreamFailure
        ? []
        : result.images.flatMap((image) => image.ownedBuffers ?? []),
    )
    return {
      generation,
      images,
      model,
      plan: { ...plan, warnings },
      ...(usage ? { usage } : {}),
      ...(reported ? { reported } : {}),
      upstreamMs: round(upstreamMs),
      overheadMs: round(performance.now() - started - upstreamMs),
      ...(owned.length > 0 ? { releaseBuffers: () => releaseArrayBuffers(owned) } : {}),
    }
  }

  /**
   * A failed call in the error table's terms; a Gemini refusal of a replayed history for a
   * missing thought signature names the step that lost it.
   */
  function explainFailure(err: unknown, prepared: PreparedInputs, input: GenerationInput) {
    const steps = prepared.chain.map((step) => step.generationId)
    return (
      (steps.length > 0 ? missingThoughtSignatureError(err, steps) : undefined) ??
      toAppError(err, input.params)
    )
  }

  function fail(
    id: string,
    model: ModelEntry,
    attempts: AttemptRecord[],
    err: unknown,
    started: number,
  ) {
    const error = toAppError(err)
    deps.metrics.generationFailures.inc({ model: model.id, code: error.code })
    deps.repo.update(id, {
      status: 'failed',
      attempts,
      error: { code: error.code, message: error.message },
      timings: { totalMs: round(performance.now() - started) },
      finishedAt: deps.clock.now().toISOString(),
    })
  }

  return {
    /**
     * Records a request refused before dispatch by the caller of `generate` (e.g. 402
     * insufficient_credits when the hold is refused), as `generate` records its own refusals.
     */
    recordRefusal,

    /**
     * Generates, stores and records. Identical in-flight requests with an explicit seed share one
     * upstream call (the answer is deterministic, so paying twice buys nothing).
     */
    async generate(workspaceId: string, input: GenerationInput): Promise<GenerationOutcome> {
      try {
        if (input.seed === undefined) {
          return await run(workspaceId, input)
        }
        const key = sha256Hex(JSON.stringify([workspaceId, input]))
        // Shared with whoever joined: its memory is left to the garbage collector.
        const { releaseBuffers: _shared, ...outcome } = await inFlight.do(key, () =>
          run(workspaceId, input),
        )
        return outcome
      } catch (err) {
        throw toAppError(err, input.params)
      }
    },

    /**
     * The request with what a refinement implies filled in: a refinement that names no model
     * continues with its parent's, so the price quoted before dispatch is the one charged.
     */
    withDefaults(workspaceId: string, input: GenerationInput): GenerationInput {
      if (input.model !== undefined) {
        return input
      }
      const parentId = input.parentGenerationId
      const parent =
        parentId !== undefined
          ? deps.repo.get(workspaceId, parentId)
          : input.parentAssetId !== undefined
            ? deps.repo.findByAsset(workspaceId, input.parentAssetId)
            : undefined
      return parent ? { ...input, model: parent.model } : input
    },
  }
}

/** Never rejects, so a promise waited for later cannot count as an unhandled rejection meanwhile. */
function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  )
}

function round(ms: number) {
  return Math.round(ms * 100) / 100
}

export type GenerationService = ReturnType<typeof createGenerationService>
