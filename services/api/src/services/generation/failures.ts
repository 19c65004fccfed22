import { AppError } from '../../errors/app-error.ts'
import { fromBlobStoreOutage, fromDatabaseOutage } from '../../errors/domain.ts'
import { missingThoughtSignatureError } from '../../refinement/missing-thought-signature.ts'
import { fromRefinementError } from '../../refinement/to-app-error.ts'
import type { ConversationStep } from '../../refinement/types.ts'
import type { InputParams } from './inputs.ts'
import { toUpstreamAppError } from './upstream-errors.ts'

export const DEFAULT_PARAMS: InputParams = {
  parentGenerationId: 'parent_generation_id',
  parentAssetId: 'parent_asset_id',
  inputs: 'input_images',
  mask: 'mask',
}

/**
 * Any failure in the terms of the error table: refinement errors first, then the object store
 * or the shared database being down (the images could not be stored or recorded), then upstream
 * ones.
 */
export function toAppError(err: unknown, params?: Partial<InputParams>): AppError {
  if (err instanceof AppError) {
    return err
  }
  const parentParam = params?.parentGenerationId ?? DEFAULT_PARAMS.parentGenerationId
  return (
    fromRefinementError(err, parentParam) ??
    fromBlobStoreOutage(err) ??
    fromDatabaseOutage(err) ??
    toUpstreamAppError(err)
  )
}

/**
 * A failed call in the error table's terms; a Gemini refusal of a replayed history for a
 * missing thought signature names the step that lost it.
 */
export function explainFailure(
  err: unknown,
  chain: readonly ConversationStep[],
  params?: Partial<InputParams>,
): AppError {
  const steps = chain.map((step) => step.generationId)
  return (
    (steps.length > 0 ? missingThoughtSignatureError(err, steps) : undefined) ??
    toAppError(err, params)
  )
}
