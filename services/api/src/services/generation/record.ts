import { createHash } from 'node:crypto'
import type { Catalog } from '../../catalog/catalog.ts'
import type { GenerationsRepository } from '../../db/repositories/generations.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import type { Clock, IdGenerator } from '../../ids.ts'
import type { AttemptRecord } from '../../providers/resilience/execute.ts'
import type { ProviderName } from '../../providers/types.ts'
import { toAppError } from './failures.ts'
import type { PreparedInputs } from './inputs.ts'
import type { GenerationInput, GenerationMetrics, PreparedGeneration } from './types.ts'
import type { UpstreamReports } from './upstream-reports.ts'

export type RecordDeps = {
  repo: Pick<GenerationsRepository, 'insert' | 'update' | 'updateReturning'>
  catalog: Pick<Catalog, 'defaultModelId' | 'models'>
  ids: IdGenerator
  clock: Clock
  metrics: GenerationMetrics
}

export function sha256Hex(text: string) {
  return createHash('sha256').update(text).digest('hex')
}

export function roundMs(ms: number) {
  return Math.round(ms * 100) / 100
}

/** A request refused before any provider was called still leaves its record. */
export function recordRefusal(
  deps: RecordDeps,
  workspaceId: string,
  input: GenerationInput,
  err: unknown,
): void {
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

/** The record of a generation about to call its provider; answers its id. */
export function recordRunning(
  deps: RecordDeps,
  prepared: PreparedGeneration,
  provider: ProviderName,
  inputs: PreparedInputs,
): string {
  const { workspaceId, input, model, plan } = prepared
  const id = deps.ids('gen')
  deps.repo.insert({
    id,
    workspaceId,
    status: 'running',
    operation: input.operation,
    prompt: input.prompt,
    promptHash: sha256Hex(input.prompt),
    model: model.id,
    provider,
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
    ...(inputs.parent
      ? { parentGenerationId: inputs.parent.generation.id, parentAssetId: inputs.parent.assetId }
      : {}),
    inputAssetIds: inputs.refs.map((ref) => ref.assetId),
    ...(inputs.refs.length > 0 ? { inputs: inputs.refs } : {}),
    rootGenerationId: inputs.rootGenerationId ?? id,
    sourceTaskId: input.sourceTaskId ?? null,
    createdAt: deps.clock.now().toISOString(),
  })
  return id
}

export type Success = {
  model: string
  provider: ProviderName
  assetIds: string[]
  imageIndexes: number[]
  attempts: AttemptRecord[]
  warnings: string[]
  costCents: number
  usage: UpstreamReports['usage'] | undefined
  modelTurns: unknown[]
  sentText: string | undefined
  upstreamMs: number
  totalMs: number
}

export function recordSuccess(deps: RecordDeps, id: string, success: Success): GenerationRow {
  const { imageIndexes, usage, modelTurns, sentText } = success
  const generation = deps.repo.updateReturning(id, {
    status: 'succeeded',
    assetIds: success.assetIds,
    attempts: success.attempts,
    warnings: success.warnings,
    costCents: success.costCents,
    ...(usage ? { usage: usage as Record<string, number> } : {}),
    timings: { upstreamMs: roundMs(success.upstreamMs), totalMs: roundMs(success.totalMs) },
    ...(modelTurns.length > 0 ? { modelTurn: modelTurns } : {}),
    ...(imageIndexes.some((imageIndex, at) => imageIndex !== at) ? { imageIndexes } : {}),
    ...(sentText === undefined ? {} : { sentText }),
    finishedAt: deps.clock.now().toISOString(),
  }) as GenerationRow
  deps.metrics.images.inc(
    { model: success.model, provider: success.provider },
    success.assetIds.length,
  )
  return generation
}

export function recordFailure(
  deps: RecordDeps,
  id: string,
  model: string,
  attempts: AttemptRecord[],
  err: unknown,
  totalMs: number,
): void {
  const error = toAppError(err)
  deps.metrics.generationFailures.inc({ model, code: error.code })
  deps.repo.update(id, {
    status: 'failed',
    attempts,
    error: { code: error.code, message: error.message },
    timings: { totalMs: roundMs(totalMs) },
    finishedAt: deps.clock.now().toISOString(),
  })
}
