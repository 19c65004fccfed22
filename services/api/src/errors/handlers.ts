import type { Hook } from '@hono/zod-openapi'
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from '../http/env.ts'
import { respondWith } from '../http/response-headers.ts'
import { nodeBindings } from '../http/server/node-bindings.ts'
import type { ErrorBody } from '../schemas/error.ts'
import { AppError, InvalidRequestError } from './app-error.ts'
import { CLIENT_CLOSED_REQUEST, isClientAbort } from './client-abort.ts'
import { errorTable } from './codes.ts'
import { fromDomainError } from './domain.ts'
import { nulTextPath, refuseNulText } from './nul-text.ts'
import { invalidRequestFromIssues } from './zod-issues.ts'

/**
 * zod-openapi's validation hook: it throws, so every 400 comes out of `onError`. Valid input
 * is also refused when its text holds a NUL character (nul-text.ts), which no database may be
 * asked to store or compare; in a path parameter that is an id naming nothing, a 404.
 */
export const defaultHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (result.success) {
    if (result.target !== 'param') {
      refuseNulText(result.data)
    } else if (nulTextPath(result.data) !== undefined) {
      throw new AppError('not_found', 'No resource has an id with a NUL character')
    }
    return
  }
  throw invalidRequestFromIssues(result.error.issues)
}

function fromHttpException(err: HTTPException): AppError {
  if (err.status === 413) {
    return new AppError('payload_too_large', 'The request body is larger than allowed')
  }
  if (err.status === 401) {
    return new AppError('unauthorized', 'Missing or invalid API key')
  }
  if (err.status >= 400 && err.status < 500) {
    return new InvalidRequestError(err.message || 'Invalid request')
  }
  return new AppError('internal_error', 'Internal error', { cause: err })
}

/** An error answer as written: status, body and headers (names in lower case). */
export type ErrorAnswer = {
  status: ContentfulStatusCode
  body: string
  headers: Record<string, string>
}

/**
 * The one error body and its headers for `err`. `method` decides whether a method-dependent
 * error may be retried; `envelope: 'skill'` wraps it as `{ ok: false, error }`.
 */
export function errorAnswer(
  err: AppError,
  request: { method: string; requestId: string; envelope?: 'skill' },
): ErrorAnswer {
  const row = errorTable[err.code]
  const retryByMethod = request.method === 'GET' || request.method === 'HEAD'
  const shouldRetry = err.shouldRetry ?? (row.retry === 'method' ? retryByMethod : row.retry)
  // A 500 never echoes internals: the message is fixed and the request id finds the log line.
  const message = err.code === 'internal_error' ? 'Internal error' : err.message
  const { requestId } = request
  const error: ErrorBody['error'] =
    err.param === undefined
      ? { type: row.type, code: err.code, message, requestId }
      : { type: row.type, code: err.code, message, param: err.param, requestId }
  // Object.assign rather than spreads, here and for the headers: refusals are answered at
  // request rates, and spreading a header object into a literal cost ~2 µs where a copy costs
  // ~0.1. A plain object, not a Headers instance; every name in err.headers is lower case
  // already (as Headers would have made it).
  Object.assign(error, err.details)
  const headers: Record<string, string> = Object.assign({}, err.headers)
  headers['content-type'] = 'application/json; charset=utf-8'
  headers['x-should-retry'] = String(shouldRetry)
  return {
    status: err.status as ContentfulStatusCode,
    body: JSON.stringify(request.envelope === 'skill' ? { ok: false, error } : { error }),
    headers,
  }
}

/** Maps any thrown value to the one error body, headers included. The only place that does. */
export function errorResponse(c: Context<AppEnv>, thrown: unknown): Response {
  if (!(thrown instanceof AppError) && isClientAbort(thrown, nodeBindings(c).incoming)) {
    return clientClosed(c, thrown)
  }
  let err: AppError
  if (thrown instanceof AppError) {
    err = thrown
  } else if (thrown instanceof HTTPException) {
    err = fromHttpException(thrown)
  } else {
    err =
      fromDomainError(thrown) ?? new AppError('internal_error', 'Internal error', { cause: thrown })
  }
  if (err.status >= 500) {
    c.get('log')?.error({ err: err.cause ?? err, code: err.code }, 'request failed')
  }
  const answer = errorAnswer(err, {
    method: c.req.method,
    requestId: c.get('requestId') ?? 'unknown',
    envelope: c.get('errorEnvelope'),
  })
  return respondWith(c, answer.body, answer.status, answer.headers)
}

/**
 * A request whose client hung up: the client's doing, logged at info, answered (to nobody) with
 * 499 so the metrics and the access line count it apart from the server's own 5xx.
 */
function clientClosed(c: Context<AppEnv>, thrown: unknown): Response {
  c.get('log')?.info(
    { reason: thrown instanceof Error ? thrown.message : String(thrown) },
    'client closed the connection before its request was read',
  )
  return new Response(null, { status: CLIENT_CLOSED_REQUEST })
}

export const onError: ErrorHandler<AppEnv> = (err, c) => errorResponse(c, err)

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, new AppError('not_found', `No route for ${c.req.method} ${c.req.path}`))
