import type { Server } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import { AppError, InvalidRequestError } from '../../errors/app-error.ts'
import { errorAnswer } from '../../errors/handlers.ts'
import type { IdGenerator } from '../../ids.ts'
import { countRequest, type HttpMetrics } from '../middleware/metrics.ts'

export type ClientErrorDeps = { ids: IdGenerator; log: Logger; metrics: HttpMetrics }

/** The metrics label of requests Node refused before there was a method or a route. */
const UNPARSED = 'unparsed'

/**
 * The error imagegate answers for what Node's HTTP parser refused: 431 for a request line or
 * headers past the limit, 408 for a request that did not arrive within headersTimeout or
 * requestTimeout, 400 for anything malformed (bad header characters, Content-Length with
 * Transfer-Encoding, a broken chunk).
 */
export function clientErrorAnswer(err: NodeJS.ErrnoException): AppError {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return new AppError(
      'headers_too_large',
      'The request line or headers are larger than the server accepts',
    )
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new AppError('request_timeout', 'The request did not arrive in time')
  }
  return new InvalidRequestError(
    `Malformed HTTP request${err.code?.startsWith('HPE_') ? ` (${err.code})` : ''}`,
  )
}

/**
 * Answers what the parser refused with the one error body (Node's own answer has an empty body),
 * counts and logs it, and closes the connection. A connection already gone, or one with an answer
 * of its own under way, is only closed.
 */
export function handleClientErrors(server: Server, deps: ClientErrorDeps): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const answering = (socket as Socket & { _httpMessage?: unknown })._httpMessage
    if (err.code === 'ECONNRESET' || !socket.writable || answering) {
      socket.destroy()
      return
    }
    const started = performance.now()
    const requestId = deps.ids('req')
    const answer = errorAnswer(clientErrorAnswer(err), { method: 'POST', requestId })
    const head = [
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}`,
      ...Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}`),
      `x-request-id: ${requestId}`,
      `content-length: ${Buffer.byteLength(answer.body)}`,
      'connection: close',
    ]
    socket.end(`${head.join('\r\n')}\r\n\r\n${answer.body}`)
    countRequest(
      deps.metrics,
      { method: UNPARSED, route: UNPARSED, status: answer.status },
      started,
    )
    deps.log.info(
      { requestId, status: answer.status, reason: err.code ?? err.message },
      'request refused by the HTTP parser',
    )
  })
}
