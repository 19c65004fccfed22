import type { components } from './schema.js'

export type ErrorBody = components['schemas']['Error']
export type ErrorCode = components['schemas']['ErrorObject']['code']

/** Every non-2xx answer of imagegate, as a typed error carrying the error body. */
export class ImagegateError extends Error {
  readonly status: number
  readonly code: ErrorCode | `http_${number}`
  readonly type: string | undefined
  readonly requestId: string | undefined
  readonly param: string | null | undefined
  readonly body: unknown
  readonly headers: Headers

  constructor(status: number, body: unknown, headers: Headers) {
    const error = isErrorBody(body) ? body.error : undefined
    super(error?.message ?? `imagegate answered HTTP ${status}`)
    this.name = 'ImagegateError'
    this.status = status
    this.code = error?.code ?? `http_${status}`
    this.type = error?.type
    this.requestId = error?.requestId ?? headers.get('x-request-id') ?? undefined
    this.param = error?.param
    this.body = body
    this.headers = headers
  }
}

function isErrorBody(body: unknown): body is ErrorBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    'error' in body &&
    typeof (body as { error: unknown }).error === 'object' &&
    (body as { error: object | null }).error !== null &&
    typeof (body as { error: { code?: unknown } }).error.code === 'string'
  )
}

/** Reads an error response once and turns it into an ImagegateError. */
export async function toImagegateError(response: Response): Promise<ImagegateError> {
  const text = await response.text()
  let body: unknown = text
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    // not JSON: keep the text as the body
  }
  return new ImagegateError(response.status, body, response.headers)
}
