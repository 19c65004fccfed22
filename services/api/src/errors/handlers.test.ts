import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppEnv } from '../http/env.ts'
import { ErrorBodySchema } from '../schemas/error.ts'
import { createTestApp, type TestApp } from '../testing/test-app.ts'
import { AppError } from './app-error.ts'
import { type ErrorCode, errorCodes, errorTable } from './codes.ts'
import { defaultHook, notFound, onError } from './handlers.ts'

/** A small app wired with the real error plumbing, and routes that fail on purpose. */
function failingApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook })
  app.use(async (c, next) => {
    c.set('requestId', 'req_test')
    c.set('log', pino({ level: 'silent' }))
    await next()
  })
  app.post('/throw/:code', (c) => {
    throw new AppError(c.req.param('code') as ErrorCode, `failed with ${c.req.param('code')}`, {
      headers: { 'retry-after': '3' },
    })
  })
  app.get('/crash', () => {
    throw new Error('SQLITE_CORRUPT at /var/lib/imagegate/secret.db')
  })
  app.openapi(
    createRoute({
      method: 'post',
      path: '/echo',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({ prompt: z.string().min(1), n: z.number().int().max(4) }),
            },
          },
        },
      },
      responses: { 200: { description: 'ok' } },
    }),
    (c) => c.json(c.req.valid('json'), 200),
  )
  app.notFound(notFound)
  app.onError(onError)
  return app
}

describe('error mapping', () => {
  it.each(errorCodes)('maps %s to its status, type and the one body shape', async (code) => {
    const res = await failingApp().request(`/throw/${code}`, { method: 'POST' })
    expect(res.status).toBe(errorTable[code].status)
    const body = ErrorBodySchema.parse(await res.json())
    expect(body.error).toMatchObject({ code, type: errorTable[code].type, requestId: 'req_test' })
    expect(res.headers.get('retry-after')).toBe('3')
    const retry = errorTable[code].retry
    expect(res.headers.get('x-should-retry')).toBe(String(retry === 'method' ? false : retry))
  })

  it('never leaks internals in a 500 and still carries the request id', async () => {
    const res = await failingApp().request('/crash')
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(text).not.toMatch(/SQLITE|secret|var\/lib/)
    expect(JSON.parse(text)).toEqual({
      error: {
        type: 'server_error',
        code: 'internal_error',
        message: 'Internal error',
        requestId: 'req_test',
      },
    })
    expect(res.headers.get('x-should-retry')).toBe('true')
  })

  it('answers malformed JSON with 400 invalid_request', async () => {
    const res = await failingApp().request('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt": "a cat",',
    })
    expect(res.status).toBe(400)
    const body = ErrorBodySchema.parse(await res.json())
    expect(body.error.code).toBe('invalid_request')
  })

  it('reports every validation issue with the first one named as param', async () => {
    const res = await failingApp().request('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: '', n: 9 }),
    })
    expect(res.status).toBe(400)
    const { error } = ErrorBodySchema.parse(await res.json())
    expect(error.code).toBe('invalid_request')
    expect(error.param).toBe('prompt')
    expect(error.issues?.map((issue) => issue.path)).toEqual(['prompt', 'n'])
  })
})

describe('the real app', () => {
  let t: TestApp
  afterEach(async () => {
    await t.close()
  })

  it('answers unknown routes with 404 not_found in the same shape', async () => {
    t = await createTestApp()
    const res = await t.app.request('/v1/nothing-here')
    expect(res.status).toBe(404)
    const body = ErrorBodySchema.parse(await res.json())
    expect(body.error.code).toBe('not_found')
    expect(body.error.requestId).toBe(res.headers.get('x-request-id'))
  })
})
