import { Agent, type Dispatcher, interceptors, request } from 'undici'
import type { Fetch, FetchResponse } from './http-errors.ts'

/**
 * The `Fetch` the adapters get in production: undici's `request` on a keep-alive pool rather
 * than undici's `fetch`, whose WHATWG streams (a promise, a transfer and a copy per chunk) cost
 * more CPU than everything else the client does for a 2 MB answer. Redirects are followed as
 * fetch follows them; errors are undici's own (fetch wraps them in `TypeError: fetch failed`),
 * which the transport classification reads through either way.
 */
export function createPooledFetch(options: Agent.Options): {
  fetch: Fetch
  close(): Promise<void>
} {
  const agent = new Agent(options)
  const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 20 }))
  const fetch: Fetch = async (url, init) => {
    const { body, contentType } = await requestBody(init.body)
    const answer = await request(url, {
      method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
      headers: withContentType(plainHeaders(init.headers), contentType),
      body,
      signal: init.signal ?? undefined,
      dispatcher,
    })
    return new PooledResponse(answer)
  }
  // Called when the server stops: by then a call still in flight is one the shutdown's grace
  // period has cut short, so it is aborted rather than awaited (undici's close would wait).
  return { fetch, close: () => agent.destroy() }
}

class PooledResponse implements FetchResponse {
  readonly status: number
  readonly ok: boolean
  readonly headers: Headers
  readonly #body: Dispatcher.ResponseData['body']

  constructor(answer: Dispatcher.ResponseData) {
    this.status = answer.statusCode
    this.ok = answer.statusCode >= 200 && answer.statusCode < 300
    this.headers = new Headers()
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
        this.headers.append(name, item)
      }
    }
    this.#body = answer.body
  }

  /** The body as it arrives (a Node stream of Buffers), for answers read piece by piece. */
  get body(): AsyncIterable<Uint8Array> {
    return this.#body
  }

  /**
   * The whole body; rejects with the socket's error if the connection fails while reading. With
   * a Content-Length, chunks are copied into the final buffer as they arrive, so that none of
   * them outlives its turn (at high concurrency, a whole answer's worth of chunks would otherwise
   * live long enough to cost a full garbage collection).
   */
  arrayBuffer(): Promise<ArrayBuffer> {
    const declared = Number(this.headers.get('content-length') ?? Number.NaN)
    if (!Number.isSafeInteger(declared) || declared <= 0 || declared > MAX_PREALLOCATED_BYTES) {
      return this.#body.arrayBuffer()
    }
    return readInto(this.#body, declared)
  }
}

/** Bodies declared larger than this are collected the ordinary way. */
const MAX_PREALLOCATED_BYTES = 256 * 1024 * 1024

function readInto(body: Dispatcher.ResponseData['body'], declared: number): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    let target = Buffer.allocUnsafeSlow(declared)
    let length = 0
    body.on('data', (chunk: Buffer) => {
      if (length + chunk.length > target.length) {
        // More than declared (undici would have failed the request already): grow, do not lose.
        const grown = Buffer.allocUnsafeSlow(Math.max(target.length * 2, length + chunk.length))
        target.copy(grown, 0, 0, length)
        target = grown
      }
      chunk.copy(target, length)
      length += chunk.length
    })
    body.once('end', () => {
      resolve(
        length === target.length
          ? target.buffer
          : target.buffer.slice(target.byteOffset, target.byteOffset + length),
      )
    })
    body.once('error', reject)
  })
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> | undefined {
  if (headers === undefined) {
    return undefined
  }
  if (headers instanceof Headers || Array.isArray(headers)) {
    return Object.fromEntries(new Headers(headers).entries())
  }
  return headers as Record<string, string>
}

/**
 * A header set with `contentType` added unless the caller set one, as fetch does: a form's
 * boundary is chosen when it is encoded, so only the encoder can name it.
 */
function withContentType(
  headers: Record<string, string> | undefined,
  contentType: string | undefined,
): Record<string, string> | undefined {
  if (contentType === undefined) {
    return headers
  }
  const named = Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'content-type')
  return named ? headers : { ...headers, 'content-type': contentType }
}

type EncodedBody = { body: string | Uint8Array | undefined; contentType?: string }

async function requestBody(body: RequestInit['body']): Promise<EncodedBody> {
  if (body === undefined || body === null) {
    return { body: undefined }
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    return { body }
  }
  if (body instanceof FormData) {
    // undici's request encodes only its own FormData class, not the platform's (Node 20 bundles
    // another undici), so the platform encodes it here. Sent with a Content-Length, not chunked:
    // the images are in memory already, and some upstreams refuse chunked uploads.
    const encoded = new Response(body)
    return {
      body: new Uint8Array(await encoded.arrayBuffer()),
      contentType: encoded.headers.get('content-type') ?? undefined,
    }
  }
  throw new TypeError('The upstream client sends string, byte or FormData bodies only')
}
