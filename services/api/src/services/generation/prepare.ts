import { creditsToUnits } from '../../access/credit-units.ts'
import type { Catalog } from '../../catalog/catalog.ts'
import type { GenerationsRepository } from '../../db/ports.ts'
import type { InputImageRef } from '../../refinement/types.ts'
import { planGeneration } from './plan.ts'
import type { GenerationInput, PreparedGeneration } from './types.ts'

export type PrepareDeps = {
  catalog: Catalog
  repo: Pick<GenerationsRepository, 'get' | 'findByAsset'>
  /** Mock mode answers every model from the local renderer, for free. */
  mockImages: boolean
}

/**
 * The request with what a refinement implies filled in: a refinement that names no model
 * continues with its parent's, so the price quoted before dispatch is the one charged.
 */
export async function withRefinementDefaults(
  deps: PrepareDeps,
  workspaceId: string,
  input: GenerationInput,
): Promise<GenerationInput> {
  if (input.model !== undefined) {
    return input
  }
  const parentId = input.parentGenerationId
  const parent =
    parentId !== undefined
      ? await deps.repo.get(workspaceId, parentId)
      : input.parentAssetId !== undefined
        ? await deps.repo.findByAsset(workspaceId, input.parentAssetId)
        : undefined
  return parent ? { ...input, model: parent.model } : input
}

/**
 * Resolves the model, maps the request onto it and prices the worst case; throws the request's
 * refusal (model_not_found, invalid_request, …) before anything is held or called.
 */
export function prepareGeneration(
  deps: PrepareDeps,
  workspaceId: string,
  input: GenerationInput,
): PreparedGeneration {
  const model = deps.catalog.resolve(input.model)
  const plan = planGeneration(model, input)
  const units = deps.mockImages ? 0 : creditsToUnits(plan.unitCostCents * plan.n)
  return { workspaceId, input, model, plan, units }
}

/**
 * The prepared request with the input images an edit stored after preparing (its uploads):
 * neither the plan nor the price depends on them.
 */
export function withInputImages(
  prepared: PreparedGeneration,
  images: { inputs: InputImageRef[]; maskAssetId?: string | undefined },
): PreparedGeneration {
  return {
    ...prepared,
    input: {
      ...prepared.input,
      ...(images.inputs.length > 0 ? { inputs: images.inputs } : {}),
      ...(images.maskAssetId ? { maskAssetId: images.maskAssetId } : {}),
    },
  }
}
