import { describe, expect, it } from 'vitest'
import { clientErrorAnswer } from './client-error.ts'

const parserError = (code: string) => Object.assign(new Error(code), { code })

describe('clientErrorAnswer', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'headers_too_large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 400, 'invalid_request'],
    ['HPE_INVALID_HEADER_TOKEN', 400, 'invalid_request'],
  ])('answers %s with %i %s', (code, status, errorCode) => {
    const err = clientErrorAnswer(parserError(code))
    expect(err).toMatchObject({ status, code: errorCode })
  })

  it('names only the parser’s own codes, never other internals', () => {
    expect(clientErrorAnswer(parserError('HPE_INVALID_METHOD')).message).toContain(
      'HPE_INVALID_METHOD',
    )
    expect(clientErrorAnswer(parserError('EWHATEVER')).message).toBe('Malformed HTTP request')
  })
})
