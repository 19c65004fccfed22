import { describe, expect, it } from 'vitest'
import { creditsToUnits } from '../../access/credit-units.ts'
import { loadCatalog } from '../../catalog/catalog.ts'
import type { GenerationRow } from '../../db/schema/index.ts'
import {
  type PrepareDeps,
  prepareGeneration,
  withInputImages,
  withRefinementDefaults,
} from './prepare.ts'
import type { GenerationInput } from './types.ts'

const catalog = loadCatalog(
  { modelsFile: undefined, defaultModel: undefined, mockImages: false },
  new Set(['local', 'openai'] as const),
)

/** A parent generation of gpt-image-1 in workspace `ws`, found by its id or by its asset. */
const parent = { id: 'gen_parent', model: 'gpt-image-1' } as GenerationRow
const lookups: string[] = []
function deps(mockImages = false): PrepareDeps {
  return {
    catalog,
    mockImages,
    repo: {
      async get(workspaceId, id) {
        lookups.push(`get:${id}`)
        return workspaceId === 'ws' && id === parent.id ? parent : undefined
      },
      async findByAsset(workspaceId, assetId) {
        lookups.push(`asset:${assetId}`)
        return workspaceId === 'ws' && assetId === 'ast_parent' ? parent : undefined
      },
    },
  }
}

const request = (input: Partial<GenerationInput> = {}): GenerationInput => ({
  prompt: 'a lighthouse',
  n: 1,
  size: '1024x1024',
  operation: 'generate',
  ...input,
})

describe('withRefinementDefaults', () => {
  it("continues a refinement that names no model with its parent's", async () => {
    expect(
      (await withRefinementDefaults(deps(), 'ws', request({ parentGenerationId: 'gen_parent' })))
        .model,
    ).toBe('gpt-image-1')
    expect(
      (await withRefinementDefaults(deps(), 'ws', request({ parentAssetId: 'ast_parent' }))).model,
    ).toBe('gpt-image-1')
  })

  it('keeps a named model, and looks nothing up for it or for a request that refines nothing', async () => {
    lookups.length = 0
    const named = request({ model: 'local-sketch', parentGenerationId: 'gen_parent' })
    expect(await withRefinementDefaults(deps(), 'ws', named)).toBe(named)
    expect((await withRefinementDefaults(deps(), 'ws', request())).model).toBeUndefined()
    expect(lookups).toEqual([])
  })

  it("never takes a model from another workspace's generation", async () => {
    const input = request({ parentGenerationId: 'gen_parent' })
    expect((await withRefinementDefaults(deps(), 'other', input)).model).toBeUndefined()
  })
})

describe('prepareGeneration', () => {
  it('resolves, plans and prices the worst case (price × n) once', () => {
    const prepared = prepareGeneration(deps(), 'ws', request({ model: 'gpt-image-1', n: 3 }))
    expect(prepared).toMatchObject({
      workspaceId: 'ws',
      model: { id: 'gpt-image-1', provider: 'openai' },
      plan: { n: 3, size: '1024x1024', unitCostCents: 16.7 },
      units: creditsToUnits(3 * 16.7),
    })
  })

  it('prices nothing for the local renderer and in mock mode', () => {
    expect(prepareGeneration(deps(), 'ws', request({ model: 'local-sketch' })).units).toBe(0)
    expect(prepareGeneration(deps(true), 'ws', request({ model: 'gpt-image-1' })).units).toBe(0)
  })

  it('uses the default model when none is named', () => {
    expect(prepareGeneration(deps(), 'ws', request()).model.id).toBe(catalog.defaultModelId)
  })

  it('throws the refusal of an unknown model or an unplannable request', () => {
    expect(() => prepareGeneration(deps(), 'ws', request({ model: 'nope' }))).toThrow(
      expect.objectContaining({ code: 'model_not_found' }),
    )
    expect(() =>
      prepareGeneration(
        deps(),
        'ws',
        request({ model: 'gpt-image-1', prompt: 'x'.repeat(40_000) }),
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'prompt' }))
  })
})

describe('withInputImages', () => {
  it('adds the stored inputs and mask, keeping the plan and the price', () => {
    const prepared = prepareGeneration(deps(), 'ws', request({ model: 'gpt-image-1' }))
    const inputs = [{ assetId: 'ast_1', role: 'edit_target' }]
    const edited = withInputImages(prepared, { inputs, maskAssetId: 'ast_mask' })
    expect(edited.input).toMatchObject({ inputs, maskAssetId: 'ast_mask' })
    expect(edited.plan).toBe(prepared.plan)
    expect(edited.units).toBe(prepared.units)
    expect(withInputImages(prepared, { inputs: [] }).input).toEqual(prepared.input)
  })
})
