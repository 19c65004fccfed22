import type { ModelEntry } from '../../catalog/model-entry.ts'
import { usesStrictContent } from '../../catalog/model-entry.ts'
import { AppError } from '../../errors/app-error.ts'
import type { Clock } from '../../ids.ts'
import type { Random } from '../../providers/resilience/backoff.ts'
import {
  type AttemptRecord,
  executeWithRetry,
  UpstreamCallFailed,
} from '../../providers/resilience/execute.ts'
import type { Sleep } from '../../providers/resilience/sleep.ts'
import type { GenerateImagesResult, ProviderName } from '../../providers/types.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import type { PreparedInputs } from './inputs.ts'
import type { PartialImageSink, PreparedGeneration, ProviderRuntime } from './types.ts'

export type DispatchDeps = {
  /** Providers that are configured; in mock mode every model is answered by `local`. */
  providers: ReadonlyMap<ProviderName, ProviderRuntime>
  mockImages: boolean
  clock: Clock
  random: Random
  sleep: Sleep
}

/** One provider call's result: its images, or why it failed for good. */
export type CallResult = GenerateImagesResult | UpstreamCallFailed | UpstreamFailure

export function isFailedCall(result: CallResult): result is UpstreamCallFailed | UpstreamFailure {
  return result instanceof UpstreamCallFailed || result instanceof UpstreamFailure
}

const CALLS_IN_PARALLEL = 4

export function runtimeFor(deps: DispatchDeps, model: ModelEntry): ProviderRuntime {
  const runtime = deps.providers.get(deps.mockImages ? 'local' : model.provider)
  if (!runtime) {
    throw new AppError('model_not_found', `No provider configured for ${model.id}`, {
      param: 'model',
    })
  }
  return runtime
}

/**
 * One provider call per chunk of at most `maxNPerCall` images, each with the retry policy, at
 * most CALLS_IN_PARALLEL at a time. A call that fails for good is one result among the others.
 * A streamed generation (one image) hands `partials` to its call.
 */
export async function dispatch(
  deps: DispatchDeps,
  runtime: ProviderRuntime,
  prepared: PreparedGeneration,
  inputs: PreparedInputs,
  onAttempt: (record: AttemptRecord) => void,
  /** Stops the calls early (a cancelled job): an aborted call fails like one past its deadline. */
  stop?: AbortSignal,
  partials?: PartialImageSink,
): Promise<CallResult[]> {
  const { model, plan, input } = prepared
  const [width = 1024, height = 1024] = plan.size.split('x').map(Number)
  const deadlineAt = deps.clock.now().getTime() + model.timeoutMs
  const chunks: number[] = []
  for (let left = plan.n; left > 0; left -= model.maxNPerCall) {
    chunks.push(Math.min(left, model.maxNPerCall))
  }
  const results: CallResult[] = []
  for (let start = 0; start < chunks.length; start += CALLS_IN_PARALLEL) {
    const batch = chunks.slice(start, start + CALLS_IN_PARALLEL)
    const settled = await Promise.allSettled(
      batch.map((count, index) =>
        executeWithRetry(
          ({ signal }) =>
            runtime.provider.generate({
              upstreamModel: model.upstreamModel,
              prompt: input.prompt,
              n: count,
              size: { width, height },
              quality: plan.quality,
              ...plan.forwarded,
              // Distinct seeds per chunk, so fanned-out calls do not return the same image.
              ...(plan.forwarded.seed === undefined
                ? {}
                : { seed: plan.forwarded.seed + (start + index) * model.maxNPerCall }),
              ...(model.safetySettings ? { safetySettings: model.safetySettings } : {}),
              ...(inputs.images.length > 0 ? { inputs: inputs.images } : {}),
              ...(inputs.mask ? { mask: inputs.mask } : {}),
              ...(inputs.chain.length > 0 ? { chain: inputs.chain } : {}),
              ...(input.inputFidelity ? { inputFidelity: input.inputFidelity } : {}),
              maxTurns: model.maxTurns,
              strictContent: usesStrictContent(model),
              ...(partials
                ? {
                    partialImages: partials.partialImages,
                    onPartialImage: partials.onPartialImage,
                  }
                : {}),
              signal: stop ? AbortSignal.any([signal, stop]) : signal,
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
