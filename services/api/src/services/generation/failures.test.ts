import { describe, expect, it } from 'vitest'
import { AppError } from '../../errors/app-error.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import { explainFailure, toAppError } from './failures.ts'

const missingSignature = () =>
  new UpstreamFailure(
    'rejected',
    'gemini',
    'Image part is missing a thought_signature in content position 2, part position 1.',
    { status: 400 },
  )

describe('toAppError', () => {
  it('passes an AppError through and maps an upstream failure onto the error table', () => {
    const refused = new AppError('invalid_request', 'no')
    expect(toAppError(refused)).toBe(refused)
    expect(toAppError(new UpstreamFailure('auth', 'openai', 'upstream key revoked'))).toMatchObject(
      {
        code: 'upstream_error',
      },
    )
  })
})

describe('explainFailure', () => {
  it('names the step that lost its thought signature when a chain was replayed', () => {
    const error = explainFailure(missingSignature(), [
      { generationId: 'gen_root' },
      { generationId: 'gen_child' },
    ] as never)
    expect(error.message).toMatch(/gen_/)
    expect(error.message).not.toBe(toAppError(missingSignature()).message)
  })

  it('is toAppError when nothing was replayed', () => {
    expect(explainFailure(missingSignature(), []).message).toBe(
      toAppError(missingSignature()).message,
    )
  })
})
