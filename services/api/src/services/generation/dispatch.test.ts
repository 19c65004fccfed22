import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../../catalog/catalog.ts'
import builtIn from '../../catalog/default-models.json' with { type: 'json' }
import type { ModelEntry } from '../../catalog/model-entry.ts'
import { AppError } from '../../errors/app-error.ts'
import { createLocalProvider } from '../../providers/local.ts'
import { createCircuitBreaker } from '../../providers/resilience/circuit-breaker.ts'
import type { AttemptRecord } from '../../providers/resilience/execute.ts'
import { createRetryBudget } from '../../providers/resilience/retry-budget.ts'
import { systemSleep } from '../../providers/resilience/sleep.ts'
import {
  type GenerateImagesRequest,
  type ImageProvider,
  type ProviderName,
  UpstreamFailure,
} from '../../providers/types.ts'
import { type DispatchDeps, dispatch, isFailedCall, runtimeFor } from './dispatch.ts'
import type { PreparedInputs } from './inputs.ts'
import { planGeneration } from './plan.ts'
import type { GenerationInput, PreparedGeneration, ProviderRuntime } from './types.ts'

const models = parseCatalog(builtIn, 'default-models.json')
const localSketch = models.find((entry) => entry.id === 'local-sketch') as ModelEntry
// The retry policy times attempts on the real timers (systemSleep), so the clock is the real one.
const clock = { now: () => new Date() }

const noInputs: PreparedInputs = {
  parent: undefined,
  rootGenerationId: undefined,
  chain: [],
  images: [],
  refs: [],
  mask: undefined,
}

function runtime(provider: ImageProvider): ProviderRuntime {
  return {
    provider,
    breaker: createCircuitBreaker({ provider: provider.name, clock }),
    budget: createRetryBudget({ clock }),
  }
}

/** The local renderer under another name, recording what it was asked, failing on request. */
function recording(name: ProviderName, failOnCall?: number) {
  const local = createLocalProvider()
  const calls: GenerateImagesRequest[] = []
  const provider: ImageProvider = {
    name,
    async generate(request) {
      calls.push(request)
      if (calls.length === failOnCall) {
        throw new UpstreamFailure('auth', name, 'upstream key revoked')
      }
      return local.generate({ ...request, upstreamModel: 'local-sketch' })
    },
  }
  return { provider, calls }
}

function deps(providers: [ProviderName, ProviderRuntime][], mockImages = false): DispatchDeps {
  return {
    providers: new Map(providers),
    mockImages,
    clock,
    random: () => 0.5,
    sleep: systemSleep,
  }
}

function prepared(model: ModelEntry, input: Partial<GenerationInput> = {}): PreparedGeneration {
  const request: GenerationInput = {
    prompt: 'a lighthouse',
    n: 1,
    size: '256x256',
    operation: 'generate',
    ...input,
  }
  return {
    workspaceId: 'ws',
    input: request,
    model,
    plan: planGeneration(model, request),
    units: 0,
  }
}

describe('runtimeFor', () => {
  it("picks the model's provider, or local for every model in mock mode", () => {
    const local = runtime(recording('local').provider)
    const openai = runtime(recording('openai').provider)
    const gptImage = { ...localSketch, id: 'gpt-image-1', provider: 'openai' as const }
    const both = deps([
      ['local', local],
      ['openai', openai],
    ])
    expect(runtimeFor(both, gptImage)).toBe(openai)
    expect(runtimeFor({ ...both, mockImages: true }, gptImage)).toBe(local)
  })

  it('refuses a model whose provider is not configured with 400 model_not_found', () => {
    const gptImage = { ...localSketch, id: 'gpt-image-1', provider: 'openai' as const }
    const only = deps([['local', runtime(recording('local').provider)]])
    expect(() => runtimeFor(only, gptImage)).toThrow(AppError)
    expect(() => runtimeFor(only, gptImage)).toThrow(/No provider configured for gpt-image-1/)
  })
})

describe('dispatch', () => {
  it('splits n into calls of at most maxNPerCall, with distinct seeds per call', async () => {
    const fake = recording('local')
    const model = { ...localSketch, maxN: 10, maxNPerCall: 2 }
    const attempts: AttemptRecord[] = []
    const results = await dispatch(
      deps([['local', runtime(fake.provider)]]),
      runtime(fake.provider),
      prepared(model, { n: 5, seed: 40 }),
      noInputs,
      (record) => attempts.push(record),
    )
    expect(fake.calls.map((call) => [call.n, call.seed])).toEqual([
      [2, 40],
      [2, 42],
      [1, 44],
    ])
    expect(fake.calls[0]).toMatchObject({
      prompt: 'a lighthouse',
      size: { width: 256, height: 256 },
    })
    expect(results).toHaveLength(3)
    expect(results.every((result) => !isFailedCall(result))).toBe(true)
    expect(attempts).toHaveLength(3)
  })

  it('keeps a call that failed for good as one result among the others', async () => {
    const fake = recording('local', 2)
    const model = { ...localSketch, maxN: 10, maxNPerCall: 1 }
    const results = await dispatch(
      deps([['local', runtime(fake.provider)]]),
      runtime(fake.provider),
      prepared(model, { n: 3 }),
      noInputs,
      () => {},
    )
    expect(results.map(isFailedCall)).toEqual([false, true, false])
    expect(fake.calls.every((call) => call.seed === undefined)).toBe(true)
  })
})
