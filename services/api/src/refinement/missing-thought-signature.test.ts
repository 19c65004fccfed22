import { describe, expect, it } from 'vitest'
import { AppError } from '../errors/app-error.ts'
import { classifyGeminiError } from '../providers/gemini-failures.ts'
import { UpstreamCallFailed } from '../providers/resilience/execute.ts'
import { fixture } from '../providers/testing/recording-fetch.ts'
import { UpstreamFailure } from '../providers/types.ts'
import { toUpstreamAppError } from '../services/generation/upstream-errors.ts'
import {
  missingThoughtSignatureError,
  recogniseMissingThoughtSignature,
  stepAtContentPosition,
} from './missing-thought-signature.ts'

const geminiAnswer = (status: number, body: unknown) =>
  classifyGeminiError({ status, headers: new Headers(), body, retryAfterMs: undefined })

describe('recogniseMissingThoughtSignature', () => {
  it.each([
    [
      'Image part is missing a thought_signature in content position 2, part position 1. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.',
      { partKind: 'image', contentPosition: 2, partPosition: 1 },
    ],
    [
      'Text part is missing a thought_signature in content position 4, part position 3.',
      { partKind: 'text', contentPosition: 4, partPosition: 3 },
    ],
    [
      'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:update_todo_list` , position 2. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.',
      {
        partKind: 'function_call',
        functionName: 'default_api:update_todo_list',
        contentPosition: 2,
      },
    ],
    [
      'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly.',
      { partKind: 'function_call' },
    ],
    [
      'Unable to submit request because function call `project_search` in the 2. content block is missing a `thought_signature`. Learn more: https://docs.cloud.google.com/vertex-ai/generative-ai/docs/thought-signatures',
      { partKind: 'function_call', functionName: 'project_search', contentPosition: 2 },
    ],
    ['Request is missing a thought_signature somewhere.', { partKind: 'unknown' }],
  ])('%s', (message, expected) => {
    expect(recogniseMissingThoughtSignature(message)).toEqual(expected)
  })

  it.each([
    '* GenerateContentRequest.generation_config.image_config.aspect_ratio: unsupported aspect ratio 7:3\n',
    'API key not valid. Please pass a valid API key.',
    'Invalid value at contents[1].parts[0].thought_signature (TYPE_BYTES), Base64 decoding failed',
  ])('ignores other errors: %s', (message) => {
    expect(recogniseMissingThoughtSignature(message)).toBeUndefined()
  })
})

describe('stepAtContentPosition', () => {
  const chain = ['gen_parent', 'gen_child']
  it.each([
    [1, { stepIndex: 0, turn: 'user', generationId: 'gen_parent' }],
    [2, { stepIndex: 0, turn: 'model', generationId: 'gen_parent' }],
    [3, { stepIndex: 1, turn: 'user', generationId: 'gen_child' }],
    [4, { stepIndex: 1, turn: 'model', generationId: 'gen_child' }],
    [5, undefined],
    [0, undefined],
  ])('content position %d → %j', (position, expected) => {
    expect(stepAtContentPosition(position, chain)).toEqual(expected)
  })
})

describe('missingThoughtSignatureError', () => {
  const signatureFailure = geminiAnswer(400, fixture('gemini-error-thought-signature.json'))

  it('turns the recorded 400 into an upstream_error naming the step and generation', () => {
    const error = missingThoughtSignatureError(signatureFailure, ['gen_parent', 'gen_child'])
    expect(error).toBeInstanceOf(AppError)
    expect(error?.code).toBe('upstream_error')
    expect(error?.status).toBe(502)
    expect(error?.shouldRetry).toBe(false)
    expect(error?.details).toEqual({
      provider: 'gemini',
      upstreamStatus: 400,
      reason: 'missing_thought_signature',
    })
    expect(error?.message).toBe(
      'Gemini refused the refinement because the replayed model turn of step 1 of 2 (generation gen_parent) ' +
        'has an image part without a thoughtSignature (Gemini: content position 2, part position 1). ' +
        'imagegate replays stored model turns exactly as Gemini sent them, so the stored turn itself has no signature ' +
        '(it may come from a model that does not sign its answers). ' +
        'Start a new chain from that image by passing it as an input image instead of a parent',
    )
  })

  it('reads the failure inside UpstreamCallFailed, as the executor throws it', () => {
    const thrown = new UpstreamCallFailed('not_retryable', signatureFailure, [])
    expect(missingThoughtSignatureError(thrown, ['gen_parent'])?.message).toContain(
      'the replayed model turn of step 1 of 1 (generation gen_parent) has an image part',
    )
  })

  it('says "a replayed model turn" when the position does not fall on a model turn', () => {
    const failure = geminiAnswer(400, {
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: 'Text part is missing a thought_signature in content position 9, part position 1.',
      },
    })
    expect(missingThoughtSignatureError(failure, ['gen_a'])?.message).toMatch(
      /^Gemini refused the refinement because a replayed model turn has a text part without a thoughtSignature \(Gemini: content position 9, part position 1\)\. /,
    )
  })

  it('says more than the generic mapping, which only relays the adapter message', () => {
    const generic = toUpstreamAppError(signatureFailure)
    expect(generic.code).toBe('upstream_error')
    expect(missingThoughtSignatureError(signatureFailure, ['gen_a'])?.message).not.toBe(
      generic.message,
    )
  })

  it.each([
    ['another Gemini 400', geminiAnswer(400, fixture('gemini-error-invalid-argument.json'))],
    ['a Gemini 503', geminiAnswer(503, fixture('gemini-error-unavailable.json'))],
    [
      'an OpenAI failure mentioning signatures',
      new UpstreamFailure('rejected', 'openai', 'missing a thought_signature', { status: 400 }),
    ],
    ['a plain error', new Error('Image part is missing a thought_signature')],
    ['nothing', undefined],
  ])('leaves %s to the generic mapping', (_label, thrown) => {
    expect(missingThoughtSignatureError(thrown, ['gen_a'])).toBeUndefined()
  })
})
