import { AppError } from '../errors/app-error.ts'
import {
  BrokenLineageError,
  ChainTooLongError,
  LineageCycleError,
  UnreplayableModelTurnError,
} from './errors.ts'
import { MaskError } from './mask.ts'
import { EditInputError, EditNotSupportedError } from './openai-edit-form.ts'

/**
 * The refinement errors in the terms of the error table; undefined for anything else. Meant to be
 * called from `errors/domain.ts` (`fromDomainError`), the one place errors become answers.
 * `parentParam` names the request field the lineage came from (`parent_generation_id`,
 * `parent_asset_id`, `parentGenerationId` …).
 */
export function fromRefinementError(err: unknown, parentParam?: string): AppError | undefined {
  const param = parentParam === undefined ? {} : { param: parentParam }
  if (err instanceof ChainTooLongError) {
    return new AppError('invalid_request', err.message, param)
  }
  if (err instanceof BrokenLineageError) {
    // Another workspace's ids look exactly like missing ones: never 403.
    return new AppError('not_found', err.message, param)
  }
  if (err instanceof MaskError) {
    return new AppError('invalid_request', err.message, { param: 'mask' })
  }
  if (err instanceof EditNotSupportedError) {
    return new AppError('unsupported_parameter', err.message, { param: 'model' })
  }
  if (err instanceof EditInputError) {
    return new AppError('invalid_request', err.message, { param: err.param })
  }
  if (err instanceof UnreplayableModelTurnError || err instanceof LineageCycleError) {
    // Stored data the gateway wrote itself is wrong: not the caller's fault, and not echoed.
    return new AppError('internal_error', 'Internal error', { cause: err })
  }
  return undefined
}
