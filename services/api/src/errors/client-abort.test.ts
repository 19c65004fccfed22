import { OpenAPIHono } from '@hono/zod-openapi'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../http/env.ts'
import { AppError } from './app-error.ts'
import { ClientAbortError, isClientAbort } from './client-abort.ts'
import { onError } from './handlers.ts'

const nodeError = (message: string, code: string) =>
  Object.assign(new Error(message), { code }) as NodeJS.ErrnoException

describe('isClientAbort', () => {
  it.each([
    ['a ClientAbortError', new ClientAbortError()],
    ["Node's request abort", nodeError('aborted', 'ECONNRESET')],
    ['a premature close', nodeError('Premature close', 'ERR_STREAM_PREMATURE_CLOSE')],
    [
      'an abort as the cause',
      new Error('part failed', { cause: nodeError('aborted', 'ECONNRESET') }),
    ],
  ])('recognises %s', (_, err) => {
    expect(isClientAbort(err)).toBe(true)
  })

  it.each([
    ['a plain error', new Error('disk full')],
    ['an upstream reset', nodeError('read ECONNRESET', 'ECONNRESET')],
    ['a non-error', 'aborted'],
  ])('does not take %s for one', (_, err) => {
    expect(isClientAbort(err)).toBe(false)
  })

  it('takes any error for one while the request’s connection is gone before its body ended', () => {
    const err = new Error('Unexpected end of form')
    expect(isClientAbort(err, { complete: false, destroyed: true })).toBe(true)
    expect(isClientAbort(err, { complete: true, destroyed: true })).toBe(false)
    expect(isClientAbort(err, { complete: false, destroyed: false })).toBe(false)
  })
})

describe('the error mapping of a client abort', () => {
  function app(thrown: unknown, lines: { level: number; msg: string }[]) {
    const hono = new OpenAPIHono<AppEnv>()
    const log = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
    )
    hono.use(async (c, next) => {
      c.set('requestId', 'req_test')
      c.set('log', log)
      await next()
    })
    hono.post('/upload', () => {
      throw thrown
    })
    hono.onError(onError)
    return hono
  }

  it('answers 499 and logs at info, never as internal_error', async () => {
    const lines: { level: number; msg: string }[] = []
    const res = await app(nodeError('aborted', 'ECONNRESET'), lines).request('/upload', {
      method: 'POST',
    })
    expect(res.status).toBe(499)
    expect(lines.map((line) => line.level)).toEqual([30])
    expect(lines[0]?.msg).toMatch(/client closed/)
  })

  it('leaves an AppError to its own status', async () => {
    const lines: { level: number; msg: string }[] = []
    const err = new AppError('payload_too_large', 'too big', {
      cause: nodeError('aborted', 'ECONNRESET'),
    })
    const res = await app(err, lines).request('/upload', { method: 'POST' })
    expect(res.status).toBe(413)
  })
})
