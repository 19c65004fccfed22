import type { Clock } from '../ids.ts'
import { type ParseJsonBytesOptions, parseJsonBytes, utf8Text } from './json-bytes.ts'
import { classifyHttpStatus } from './resilience/classify.ts'
import { classifyTransportError } from './resilience/classify-transport.ts'
import { parseRetryAfter } from './resilience/retry-after.ts'
import { type ProviderName, UpstreamFailure } from './types.ts'

/**
 * What the adapters read of an answer: fetch's Response has it, and so has the pooled client's.
 * `body`, read as it arrives, is for streamed answers (a web stream or a Node stream).
 */
export type FetchResponse = Pick<Response, 'ok' | 'status' | 'headers' | 'arrayBuffer'> & {
  readonly body?: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null
}

/**
 * The slice of `fetch` the adapters use; the global fetch, undici's and `createPooledFetch` all
 * fit. The body must be read (or the call aborted) for the connection to be reused.
 */
export type Fetch = (url: string, init: RequestInit) => Promise<FetchResponse>

const PROVIDER_LABEL: Record<ProviderName, string> = {
  local: 'Local renderer',
  openai: 'OpenAI-compatible upstream',
  gemini: 'Gemini',
}

export function providerLabel(provider: ProviderName): string {
  return PROVIDER_LABEL[provider]
}

/** The caller's deadline, tightened by the adapter's own per-attempt limit when it has one. */
export function withTimeout(signal: AbortSignal, timeoutMs: number | undefined): AbortSignal {
  return timeoutMs === undefined
    ? signal
    : AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
}

/** Every `code` along the cause chain (undici wraps the socket error in `TypeError: fetch failed`). */
function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 5 || typeof error !== 'object' || error === null) {
    return []
  }
  const codes: string[] = []
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown }
  if (typeof code === 'string') {
    codes.push(code)
  }
  codes.push(...errorCodes(cause, depth + 1))
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      codes.push(...errorCodes(inner, depth + 1))
    }
  }
  return codes
}

/**
 * Classifies a `fetch` that threw. `phase` says whether a response had already started: once the
 * status line is in, the provider has the whole request and may have done (and billed) the work.
 */
export function transportFailure(
  provider: ProviderName,
  error: unknown,
  signal: AbortSignal,
  phase: 'request' | 'body',
): UpstreamFailure {
  const label = providerLabel(provider)
  if (signal.aborted) {
    return new UpstreamFailure('timeout', provider, `${label} did not answer before the deadline`, {
      cause: error,
    })
  }
  const codes = errorCodes(error)
  const described = codes.length > 0 ? ` (${codes.join(', ')})` : ''
  if (phase === 'request' && classifyTransportError(error) === 'not_sent') {
    return new UpstreamFailure('not_sent', provider, `Could not reach ${label}${described}`, {
      cause: error,
      upstreamCode: codes[0],
    })
  }
  const where = phase === 'body' ? 'while sending its answer' : 'after the request was sent'
  return new UpstreamFailure(
    'ambiguous',
    provider,
    `${label} connection failed ${where}${described}`,
    {
      cause: error,
      upstreamCode: codes[0],
    },
  )
}

export type FailureDetails = {
  message: string
  upstreamCode?: string
  retryAfterMs?: number
}

/**
 * The status-only part of the taxonomy: `classifyHttpStatus`, the one table the retry policy is
 * tested against (B3). Adapters check provider codes (policy, quota) first, with the details they
 * need (stage, reason); the code is not passed on, so a failure here is decided by its status.
 */
export function failureFromStatus(
  provider: ProviderName,
  status: number,
  details: FailureDetails,
): UpstreamFailure {
  return new UpstreamFailure(
    classifyHttpStatus(status),
    provider,
    `${providerLabel(provider)} answered ${status}: ${details.message}`,
    { status, upstreamCode: details.upstreamCode, retryAfterMs: details.retryAfterMs },
  )
}

/**
 * Time spent on answers after they arrived (JSON, base64, image checks), added up across the
 * calls of one `generate`; see `GenerateImagesResult.processingMs`.
 */
export type ProcessingTime = { ms: number }

export function timed<T>(time: ProcessingTime | undefined, work: () => T): T {
  if (time === undefined) {
    return work()
  }
  const started = performance.now()
  try {
    return work()
  } finally {
    time.ms += performance.now() - started
  }
}

export type ErrorAnswer = {
  status: number
  headers: Headers
  /** The parsed JSON when the body was JSON, otherwise its text (possibly empty). */
  body: unknown
  retryAfterMs: number | undefined
}

export type UpstreamPost = {
  provider: ProviderName
  fetch: Fetch
  url: string
  headers: Record<string, string>
  /** Already combined with any per-attempt timeout (see `withTimeout`). */
  signal: AbortSignal
  clock: Clock
  classifyError(answer: ErrorAnswer): UpstreamFailure
  /** Where the time spent parsing the answer is added. */
  processing?: ProcessingTime
  /** How long base64 values come back (see `parseJsonBytes`); strings by default. */
  base64?: ParseJsonBytesOptions['base64']
}

export type JsonPost = UpstreamPost & { body: unknown }

/**
 * One POST with every way it can fail turned into an `UpstreamFailure`; resolves to the parsed
 * JSON of a 2xx answer (long base64 values as `post.base64` asks).
 */
export function postJson(post: JsonPost): Promise<unknown> {
  return postAndParse(post, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...post.headers },
    body: JSON.stringify(post.body),
    signal: post.signal,
  })
}

/**
 * As `postJson`, with a multipart body. No content-type is set here: the fetch encodes the form
 * and names its own boundary in the header, which a fixed header would contradict.
 */
export function postMultipart(post: UpstreamPost & { form: FormData }): Promise<unknown> {
  return postAndParse(post, {
    method: 'POST',
    headers: { ...post.headers },
    body: post.form,
    signal: post.signal,
  })
}

async function postAndParse(post: UpstreamPost, init: RequestInit): Promise<unknown> {
  return readJsonAnswer(post, await sendUpstream(post, init))
}

/**
 * Sends one request; resolves to a 2xx answer whose body is still to be read, and throws any
 * other answer as the provider classifies it (its body read first), or the transport's failure.
 */
export async function sendUpstream(post: UpstreamPost, init: RequestInit): Promise<FetchResponse> {
  const { provider, signal } = post
  let response: FetchResponse
  try {
    response = await post.fetch(post.url, init)
  } catch (error) {
    throw transportFailure(provider, error, signal, 'request')
  }
  if (response.ok) {
    return response
  }
  let bytes = new Uint8Array(0)
  try {
    bytes = new Uint8Array(await response.arrayBuffer())
  } catch (error) {
    // An error status already says what happened; its body only adds the details.
    if (signal.aborted) {
      throw transportFailure(provider, error, signal, 'body')
    }
  }
  throw post.classifyError({
    status: response.status,
    headers: response.headers,
    body: parseJsonOrText(utf8Text(bytes)),
    retryAfterMs: parseRetryAfter(response.headers, post.clock.now()),
  })
}

/** The parsed JSON of a 2xx answer (long base64 values as `post.base64` asks). */
export async function readJsonAnswer(
  post: UpstreamPost,
  response: FetchResponse,
): Promise<unknown> {
  const { provider, signal } = post
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await response.arrayBuffer())
  } catch (error) {
    throw transportFailure(provider, error, signal, 'body')
  }
  try {
    // From the bytes: megabytes of base64 are neither decoded as UTF-8 nor scanned by JSON.parse.
    return timed(post.processing, () => parseJsonBytes(bytes, { base64: post.base64 ?? 'string' }))
  } catch (cause) {
    throw badResponse(provider, `answered ${response.status} with a body that is not JSON`, {
      status: response.status,
      cause,
      snippet: utf8Text(bytes),
    })
  }
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function badResponse(
  provider: ProviderName,
  problem: string,
  details: {
    status?: number
    cause?: unknown
    snippet?: string
    finishReason?: string
    reason?: string
  } = {},
): UpstreamFailure {
  const snippet = details.snippet === undefined ? '' : `: ${shorten(details.snippet)}`
  return new UpstreamFailure(
    'bad_response',
    provider,
    `${providerLabel(provider)} ${problem}${snippet}`,
    {
      status: details.status,
      cause: details.cause,
      finishReason: details.finishReason,
      reason: details.reason,
    },
  )
}

/** Keeps upstream text out of messages beyond a short, single-line excerpt. */
export function shorten(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine
}
