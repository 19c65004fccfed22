import { afterEach, describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../errors/app-error.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'
import type { PreparedInputs } from './inputs.ts'
import {
  type RecordDeps,
  recordFailure,
  recordRefusal,
  recordRunning,
  recordSuccess,
  sha256Hex,
} from './record.ts'
import type { GenerationInput } from './types.ts'

let t: TestApp
afterEach(async () => {
  await t.close()
})

/** Record deps on a test app's database, with counters that remember what they counted. */
async function recordDeps() {
  t = await createTestApp()
  const counted: { images: unknown[]; failures: unknown[] } = { images: [], failures: [] }
  const deps: RecordDeps = {
    repo: t.deps.generationsRepo,
    catalog: t.deps.catalog,
    ids: t.deps.ids,
    clock: t.deps.clock,
    metrics: {
      images: { inc: (labels, value) => counted.images.push([labels, value]) },
      generationFailures: { inc: (labels) => counted.failures.push(labels) },
    },
  }
  return { deps, counted, row: (id: string) => t.deps.generationsRepo.get('default', id) }
}

const input: GenerationInput = {
  model: 'local-sketch',
  prompt: 'a lighthouse',
  n: 2,
  size: '256x256',
  seed: 7,
  operation: 'generate',
}

const noInputs: PreparedInputs = {
  parent: undefined,
  rootGenerationId: undefined,
  chain: [],
  images: [],
  refs: [],
  mask: undefined,
}

describe('recordRefusal', () => {
  it('leaves a failed record with the requested settings and counts the failure', async () => {
    const { deps, counted } = await recordDeps()
    await recordRefusal(
      deps,
      'default',
      { ...input, model: undefined },
      new InvalidRequestError('no'),
    )
    const [row] = await t.deps.generationsRepo.list('default', {}, { limit: 10 })
    expect(row).toMatchObject({
      status: 'failed',
      model: t.deps.catalog.defaultModelId,
      provider: 'none',
      promptHash: sha256Hex('a lighthouse'),
      size: '256x256',
      seed: 7,
      n: 2,
      assetIds: [],
      costCents: 0,
      error: { code: 'invalid_request', message: 'no' },
    })
    expect(row?.rootGenerationId).toBe(row?.id)
    expect(counted.failures).toEqual([{ model: 'default', code: 'invalid_request' }])
  })
})

describe('a generation from running to its end', () => {
  it('records it running with the plan, then succeeded with its images and timings', async () => {
    const { deps, counted, row } = await recordDeps()
    const prepared = await t.deps.generation.prepare('default', input)
    const id = await recordRunning(deps, prepared, 'local', noInputs)
    expect(await row(id)).toMatchObject({
      status: 'running',
      model: 'local-sketch',
      provider: 'local',
      size: '256x256',
      n: prepared.plan.n,
      warnings: prepared.plan.warnings,
      parameters: expect.objectContaining({ requestedN: 2, seed: 7 }),
      rootGenerationId: id,
    })
    const generation = await recordSuccess(deps, id, {
      model: 'local-sketch',
      provider: 'local',
      assetIds: ['ast_a', 'ast_b'],
      imageIndexes: [0, 2],
      attempts: [],
      warnings: ['one of them failed'],
      costCents: 0,
      usage: undefined,
      modelTurns: [],
      sentText: undefined,
      upstreamMs: 12.3456,
      totalMs: 20.4444,
    })
    expect(generation).toMatchObject({
      status: 'succeeded',
      assetIds: ['ast_a', 'ast_b'],
      imageIndexes: [0, 2],
      warnings: ['one of them failed'],
      timings: { upstreamMs: 12.35, totalMs: 20.44 },
    })
    expect(counted.images).toEqual([[{ model: 'local-sketch', provider: 'local' }, 2]])
  })

  it('stores no image indexes when every image stored in order', async () => {
    const { deps } = await recordDeps()
    const id = await recordRunning(
      deps,
      await t.deps.generation.prepare('default', input),
      'local',
      noInputs,
    )
    const generation = await recordSuccess(deps, id, {
      model: 'local-sketch',
      provider: 'local',
      assetIds: ['ast_a'],
      imageIndexes: [0],
      attempts: [],
      warnings: [],
      costCents: 0,
      usage: undefined,
      modelTurns: [],
      sentText: undefined,
      upstreamMs: 1,
      totalMs: 2,
    })
    expect(generation.imageIndexes ?? undefined).toBeUndefined()
  })

  it('records a failure in the error table terms and counts it', async () => {
    const { deps, counted, row } = await recordDeps()
    const id = await recordRunning(
      deps,
      await t.deps.generation.prepare('default', input),
      'local',
      noInputs,
    )
    await recordFailure(
      deps,
      id,
      'local-sketch',
      [],
      new UpstreamFailure('auth', 'local', 'upstream key revoked'),
      5,
    )
    expect(await row(id)).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_error' },
      timings: { totalMs: 5 },
    })
    expect(counted.failures).toEqual([{ model: 'local-sketch', code: 'upstream_error' }])
  })
})
