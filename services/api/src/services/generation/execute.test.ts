import { afterEach, describe, expect, it } from 'vitest'
import { createCircuitBreaker } from '../../providers/resilience/circuit-breaker.ts'
import { createRetryBudget } from '../../providers/resilience/retry-budget.ts'
import { systemSleep } from '../../providers/resilience/sleep.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import { type AccessTestApp, createAccessTestApp } from '../../testing/access.ts'
import { createExecutor } from './execute.ts'
import type { GenerationInput } from './types.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

/** An executor on the test app's stores, calling the scripted paid provider. */
function executor() {
  const clock = t.deps.clock
  return createExecutor({
    providers: new Map([
      [
        'openai',
        {
          provider: t.paid.provider,
          breaker: createCircuitBreaker({ provider: 'openai', clock }),
          budget: createRetryBudget({ clock }),
        },
      ],
    ]),
    mockImages: false,
    clock,
    random: () => 0.5,
    sleep: systemSleep,
    assets: t.deps.assets,
    repo: t.deps.generationsRepo,
    catalog: t.deps.catalog,
    ids: t.deps.ids,
    metrics: t.deps.metrics,
  })
}

const request = (input: Partial<GenerationInput> = {}): GenerationInput => ({
  model: 'gpt-image-1',
  prompt: 'a lighthouse',
  n: 1,
  size: '1024x1024',
  operation: 'generate',
  ...input,
})

const records = () => t.deps.generationsRepo.list('default', {}, { limit: 20 })

describe('execute', () => {
  it('stores and records what came back, costed by the images returned', async () => {
    t = await createAccessTestApp({ script: { images: () => 1 } })
    const outcome = await executor()(await t.deps.generation.prepare('default', request({ n: 3 })))
    expect(outcome.images).toHaveLength(1)
    expect(outcome.generation).toMatchObject({
      status: 'succeeded',
      n: 3,
      costCents: 16.7,
      assetIds: [outcome.images[0]?.asset.id],
    })
    expect(outcome.upstreamMs).toBeGreaterThanOrEqual(0)
    expect(outcome.overheadMs).toBeGreaterThanOrEqual(0)
  })

  it('shares one upstream call between identical seeded requests in flight, not unseeded ones', async () => {
    t = await createAccessTestApp({ script: { delayMs: 50 } })
    const execute = executor()
    const seeded = await t.deps.generation.prepare('default', request({ seed: 3 }))
    const [first, second] = await Promise.all([execute(seeded), execute(seeded)])
    expect(t.paid.calls).toHaveLength(1)
    expect(first.generation.id).toBe(second.generation.id)
    expect(first.releaseBuffers).toBeUndefined()
    const unseeded = await t.deps.generation.prepare('default', request())
    await Promise.all([execute(unseeded), execute(unseeded)])
    expect(t.paid.calls).toHaveLength(3)
  })

  it('records a failure for good, in the error table terms', async () => {
    t = await createAccessTestApp({
      script: { fail: () => new UpstreamFailure('auth', 'openai', 'upstream key revoked') },
    })
    const prepared = await t.deps.generation.prepare('default', request())
    await expect(executor()(prepared)).rejects.toMatchObject({ code: 'upstream_error' })
    expect(await records()).toEqual([
      expect.objectContaining({
        status: 'failed',
        provider: 'openai',
        error: expect.objectContaining({ code: 'upstream_error' }),
        attempts: [expect.objectContaining({ outcome: expect.anything() })],
      }),
    ])
  })

  it('refuses a missing parent before any call, leaving a refusal and no running record', async () => {
    t = await createAccessTestApp()
    const prepared = await t.deps.generation.prepare(
      'default',
      request({ parentGenerationId: 'gen_missing' }),
    )
    await expect(executor()(prepared)).rejects.toMatchObject({
      code: 'not_found',
      param: 'parent_generation_id',
    })
    expect(t.paid.calls).toHaveLength(0)
    expect(await records()).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: expect.objectContaining({ code: 'not_found' }),
      }),
    ])
  })
})
