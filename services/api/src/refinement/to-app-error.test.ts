import { describe, expect, it } from 'vitest'
import {
  BrokenLineageError,
  ChainTooLongError,
  LineageCycleError,
  UnreplayableModelTurnError,
} from './errors.ts'
import { MaskError } from './mask.ts'
import { EditInputError, EditNotSupportedError } from './openai-edit-form.ts'
import { fromRefinementError } from './to-app-error.ts'

describe('fromRefinementError', () => {
  it.each([
    [new ChainTooLongError(6, 5), 'invalid_request', 400, 'parent_generation_id'],
    [new BrokenLineageError('gen_x', 0), 'not_found', 404, 'parent_generation_id'],
    [
      new MaskError('no_alpha', 'mask must be a PNG with an alpha channel'),
      'invalid_request',
      400,
      'mask',
    ],
    [new EditNotSupportedError('dall-e-3'), 'unsupported_parameter', 400, 'model'],
    [
      new EditInputError('dall-e-2 edits exactly one image; got 2'),
      'invalid_request',
      400,
      'image',
    ],
  ])('%s → %s %d on %s', (error, code, status, param) => {
    const answer = fromRefinementError(error, 'parent_generation_id')
    expect(answer).toMatchObject({ code, status, param, message: error.message })
  })

  it('leaves the param out when the caller does not name the parent field', () => {
    expect(fromRefinementError(new ChainTooLongError(6, 5))?.param).toBeUndefined()
  })

  it.each([
    new UnreplayableModelTurnError(0, 'gen_a', 'it has no parts'),
    new LineageCycleError('gen_a'),
  ])('answers stored-data faults with an internal_error that echoes nothing: %s', (error) => {
    const answer = fromRefinementError(error)
    expect(answer).toMatchObject({ code: 'internal_error', status: 500, message: 'Internal error' })
    expect(answer?.cause).toBe(error)
  })

  it('ignores other errors', () => {
    expect(fromRefinementError(new Error('x'))).toBeUndefined()
    expect(fromRefinementError(undefined)).toBeUndefined()
  })
})
