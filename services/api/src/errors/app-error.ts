import { type ErrorCode, errorTable } from './codes.ts'

/** Extra members of the error object (`...details` in the error body), e.g. `stage`, `cost`, `balance`. */
export type ErrorDetails = {
  issues?: { path: string; message: string }[]
  stage?: 'input' | 'output'
  reason?: string
  provider?: string
  upstreamStatus?: number
  finishReason?: string
  cost?: number
  balance?: number
  retryAfterSeconds?: number
}

export type AppErrorOptions = {
  param?: string
  details?: ErrorDetails
  /** Response headers the error carries, e.g. Retry-After. */
  headers?: Record<string, string>
  /** Overrides the table's retry advice for this instance (sent as `x-should-retry`). */
  shouldRetry?: boolean
  cause?: unknown
}

/**
 * The one error type of imagegate. Services throw it; `errors/handlers.ts` alone turns it into
 * a response, so every error body in the product has the same shape.
 */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly param: string | undefined
  readonly details: ErrorDetails
  readonly headers: Record<string, string>
  readonly shouldRetry: boolean | undefined

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.status = errorTable[code].status
    this.param = options.param
    this.details = options.details ?? {}
    this.headers = options.headers ?? {}
    this.shouldRetry = options.shouldRetry
  }
}

export class InvalidRequestError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('invalid_request', message, options)
  }
}

export class NotFoundError extends AppError {
  constructor(resource: string, id?: string) {
    super(
      'not_found',
      id === undefined ? `${resource} not found` : `No ${resource} with id '${id}'`,
    )
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super('payload_too_large', `The request body exceeds the limit of ${limitBytes} bytes`)
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super('unsupported_media_type', message)
  }
}
