import { createHash } from 'node:crypto'
import type { Catalog } from '../../catalog/catalog.ts'
import type { GenerationsRepository } from '../../db/ports.ts'
import type { GenerationRow, NewGeneration } from '../../db/schema/index.ts'
import type { Clock, IdGenerator } from '../../ids.ts'
import type { AttemptRecord } from '../../providers/resilience/execute.ts'
import type { ProviderName } from '../../providers/types.ts'
import type { InputImageRef } from '../../refinement/types.ts'
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

/**
 * A request refused before any provider was called still leaves its record. The refusal is the
 * request's answer: it announces nothing, so it is recorded as announced.
 */
export async function recordRefusal(
  deps: RecordDeps,
  workspaceId: string,
  input: GenerationInput,
  err: unknown,
): Promise<void> {
  const error = toAppError(err, input.params)
  const now = deps.clock.now().toISOString()
  const id = deps.ids('gen')
  await deps.repo.insert({
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
    announcedAt: now,
  })
  deps.metrics.generationFailures.inc({ model: input.model ?? 'default', code: error.code })
}

/**
 * The record of a generation about to call its provider; answers its id. A job's record exists
 * since it was accepted (`queued`): it becomes `running`, filled in with what the inputs resolved.
 */
export async function recordRunning(
  deps: RecordDeps,
  prepared: PreparedGeneration,
  provider: ProviderName,
  inputs: PreparedInputs,
  queuedId?: string,
): Promise<string> {
  const id = queuedId ?? deps.ids('gen')
  const row = generationRow(prepared, id, provider, lineageOf(inputs))
  if (queuedId) {
    const { id: _id, workspaceId: _workspaceId, ...changes } = row
    await deps.repo.update(queuedId, { ...changes, status: 'running' })
  } else {
    await deps.repo.insert({
      ...row,
      status: 'running',
      createdAt: deps.clock.now().toISOString(),
    })
  }
  return id
}

/**
 * The record of an accepted job (`Prefer: respond-async`): `queued`, nothing called yet. What
 * its inputs resolve to (the parent's image, the lineage's root) is filled in when it runs.
 */
export function queuedRow(
  deps: RecordDeps & { mockImages: boolean },
  prepared: PreparedGeneration,
  id: string,
): NewGeneration {
  const { input, model } = prepared
  return {
    ...generationRow(prepared, id, deps.mockImages ? 'local' : model.provider, {
      refs: input.inputs ?? [],
      ...(input.parentGenerationId ? { parentGenerationId: input.parentGenerationId } : {}),
      ...(input.parentAssetId ? { parentAssetId: input.parentAssetId } : {}),
    }),
    createdAt: deps.clock.now().toISOString(),
    status: 'queued',
  }
}

/** Where a generation comes from: its input images and the generation it refines. */
type Lineage = {
  refs: InputImageRef[]
  parentGenerationId?: string
  parentAssetId?: string
  rootGenerationId?: string
}

function lineageOf(inputs: PreparedInputs): Lineage {
  return {
    refs: inputs.refs,
    ...(inputs.parent
      ? { parentGenerationId: inputs.parent.generation.id, parentAssetId: inputs.parent.assetId }
      : {}),
    ...(inputs.rootGenerationId ? { rootGenerationId: inputs.rootGenerationId } : {}),
  }
}

function generationRow(
  prepared: PreparedGeneration,
  id: string,
  provider: ProviderName,
  lineage: Lineage,
): Omit<NewGeneration, 'status' | 'createdAt'> {
  const { workspaceId, input, model, plan } = prepared
  return {
    id,
    workspaceId,
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
    ...(lineage.parentGenerationId ? { parentGenerationId: lineage.parentGenerationId } : {}),
    ...(lineage.parentAssetId ? { parentAssetId: lineage.parentAssetId } : {}),
    inputAssetIds: lineage.refs.map((ref) => ref.assetId),
    ...(lineage.refs.length > 0 ? { inputs: lineage.refs } : {}),
    rootGenerationId: lineage.rootGenerationId ?? id,
    sourceTaskId: input.sourceTaskId ?? null,
    webhookUrl: input.webhookUrl ?? null,
  }
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

export async function recordSuccess(
  deps: RecordDeps,
  id: string,
  success: Success,
): Promise<GenerationRow> {
  const { imageIndexes, usage, modelTurns, sentText } = success
  const generation = (await deps.repo.updateReturning(id, {
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
  })) as GenerationRow
  deps.metrics.images.inc(
    { model: success.model, provider: success.provider },
    success.assetIds.length,
  )
  return generation
}

export async function recordFailure(
  deps: RecordDeps,
  id: string,
  model: string,
  attempts: AttemptRecord[],
  err: unknown,
  totalMs: number,
): Promise<void> {
  const error = toAppError(err)
  deps.metrics.generationFailures.inc({ model, code: error.code })
  await deps.repo.update(id, {
    status: 'failed',
    attempts,
    error: { code: error.code, message: error.message },
    timings: { totalMs: roundMs(totalMs) },
    finishedAt: deps.clock.now().toISOString(),
  })
}

/**
 * Ends a job's record without images: cancelled by its caller, or failed because its run was
 * cut off (see services/jobs/run-job.ts). The same update whatever state it was left in.
 */
export function recordStopped(
  deps: RecordDeps,
  id: string,
  status: 'failed' | 'cancelled',
  error: { code: string; message: string } | null,
): Promise<GenerationRow | undefined> {
  return deps.repo.updateReturning(id, {
    status,
    error,
    finishedAt: deps.clock.now().toISOString(),
  })
}
