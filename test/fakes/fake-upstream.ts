import { createHash } from 'node:crypto'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import busboy from 'busboy'
import { noisePng } from './noise-png.ts'

/**
 * A real HTTP server on 127.0.0.1 that speaks OpenAI Images (`POST /v1/images/generations`, and
 * `POST /v1/images/edits` as multipart) and Gemini (`POST /v1beta/models/:model:generateContent`),
 * with scripted faults per call.
 */

export type FaultMode =
  /** A normal answer (after `delayMs`, if given: the "slow answer" mode). */
  | 'ok'
  /** OpenAI: the image as a URL on this server. Gemini has no URL answers: same as ok. */
  | 'url'
  /** 429 with `Retry-After: <seconds>`. */
  | 'rate_limit_seconds'
  /** 429 with `Retry-After: <HTTP-date>`. */
  | 'rate_limit_date'
  /** 429 insufficient_quota (OpenAI) / RESOURCE_EXHAUSTED with a quota of 0 (Gemini). */
  | 'insufficient_quota'
  | 'unauthorized'
  | 'server_error_500'
  | 'bad_gateway_502'
  | 'unavailable_503'
  /** 200 and its headers, half the body, then the socket is destroyed. */
  | 'reset_after_headers'
  | 'malformed_json'
  /** Valid JSON whose base64 is cut at a 4-character boundary (decodes, but to half a PNG). */
  | 'truncated_base64'
  /** OpenAI 400 moderation_blocked / Gemini finishReason IMAGE_SAFETY. */
  | 'safety_block'
  /** OpenAI 400 content_policy_violation / Gemini promptFeedback.blockReason. */
  | 'prompt_blocked'
  /** OpenAI `data: []` / Gemini STOP with text only. */
  | 'no_image'
  /** Gemini 400 INVALID_ARGUMENT: an image part of the history lost its thought_signature. */
  | 'missing_thought_signature'
  /** OpenAI `stream: true`: the first partial image, then an `error` event and the end. */
  | 'stream_error_after_partial'

export type Fault =
  | FaultMode
  | {
      mode: FaultMode
      /** Wait this long before answering (the "slow answer" mode when mode is ok). */
      delayMs?: number
      /** For the rate-limit modes; default 1. */
      retryAfterSeconds?: number
      /** OpenAI `stream: true`: the wait before each event (partial or completed); default 0. */
      eventDelayMs?: number
      /**
       * OpenAI `stream: true`: the completed event waits for this too, so a test can hold the
       * upstream unfinished until its client has seen every partial image.
       */
      completedAfter?: Promise<void>
    }

/** A file part of a multipart request, as received. */
export type ReceivedFile = {
  /** The form field: `image`, `image[]`, `mask`. */
  name: string
  /** Absent when the part named none. */
  filename: string | undefined
  contentType: string
  size: number
  sha256: string
}

export type UpstreamCall = {
  /** `openai_edit`: `POST /v1/images/edits`. */
  shape: 'openai' | 'openai_edit' | 'gemini' | 'file' | 'unknown'
  method: string
  path: string
  /** Gemini: the model in the path; OpenAI: the `model` field. */
  model: string | undefined
  headers: IncomingHttpHeaders
  /**
   * Parsed JSON when the body was JSON; for a multipart body its text fields by name (a repeated
   * name keeps its last value); else its text ('' for none).
   */
  body: unknown
  /** A multipart body's files, in the order they arrived. */
  files?: ReceivedFile[]
  /** The fault this call was answered with (generation calls only). */
  fault: FaultMode | undefined
  /** The request body exactly as it arrived. */
  raw: Buffer
  /** The answer's body exactly as sent (generation calls). */
  answer?: string
  /**
   * A streamed answer's events as they were written, each with the wall-clock time
   * (`performance.timeOrigin + performance.now()`, comparable across processes) it was handed
   * to the socket, and the time its last byte was (the write's callback: for an event larger than
   * the socket's buffers, once the reader has taken most of it).
   */
  events?: { type: string; sentAt: number; sentUntil: number; base64: string }[]
}

export type FakeUpstream = {
  /** `http://127.0.0.1:<port>`; OpenAI base is `${url}/v1`, Gemini base `${url}/v1beta`. */
  url: string
  /** The image every successful answer carries. */
  image: Uint8Array
  /** Every request in arrival order, file downloads included. */
  calls: UpstreamCall[]
  /** Faults for the next generation calls, in order; once used up, the default applies. */
  script(faults: Fault[]): void
  setDefault(fault: Fault): void
  /** Forgets calls and script and sets the default back to ok. */
  reset(): void
  close(): Promise<void>
}

export type FakeUpstreamOptions = {
  /** The port on 127.0.0.1 to listen on; a free one by default. */
  port?: number
  image?: Uint8Array
  mediaType?: string
  /**
   * The image answering generation call `callIndex` (its index in `calls`), as base64: a
   * different image per call, where bytes repeated every time would let a content-addressed
   * store skip its work. Without it, every answer carries `image`.
   */
  imageBase64For?: (callIndex: number) => string
  /**
   * The partial image `partialIndex` of streamed call `callIndex`, as base64. Without it, the
   * partials are noise PNGs of the answer's size, one per partial index, the same every call.
   */
  partialBase64For?: (callIndex: number, partialIndex: number) => string
}

let defaultImage: Uint8Array | undefined

type Reply = {
  status: number
  headers?: Record<string, string>
  body: string | Uint8Array
  /** Send the headers and half the body, then destroy the socket. */
  reset?: boolean
}

type Script = { mode: FaultMode; retryAfterSeconds: number }

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  defaultImage ??= noisePng()
  const image = options.image ?? defaultImage
  const mediaType = options.mediaType ?? 'image/png'
  const base64 = Buffer.from(image).toString('base64')
  const imageSize = pngSize(image)
  const calls: UpstreamCall[] = []
  const timers = new Set<NodeJS.Timeout>()
  let queue: Fault[] = []
  let fallback: Fault = 'ok'
  let url = ''

  const base64For = options.imageBase64For ?? (() => base64)
  const answers = {
    openai: (script: Script, body: Record<string, unknown>, callIndex: number): Reply => {
      const answered = base64For(callIndex)
      return openAIReply(script, body, {
        base64: answered,
        fileUrl: `${url}/files/${callIndex}.png`,
        // The first 32 base64 characters are the signature and IHDR's start, sizes included.
        size: options.imageBase64For
          ? pngSize(Buffer.from(answered.slice(0, 32), 'base64'))
          : imageSize,
        inputImages: 0,
      })
    },
    // An edit answers a PNG of the size it asked for; so does its URL.
    openai_edit: (script: Script, body: Record<string, unknown>, callIndex: number): Reply => {
      const { width, height } = editSize(body.size)
      return openAIReply(script, body, {
        base64: Buffer.from(sizedPng(width, height)).toString('base64'),
        fileUrl: `${url}/files/${callIndex}-${width}x${height}.png`,
        size: `${width}x${height}`,
        inputImages: (calls[callIndex]?.files ?? []).filter((file) => file.name !== 'mask').length,
      })
    },
    gemini: (script: Script, _body: unknown, callIndex: number): Reply =>
      geminiReply(script, { base64: base64For(callIndex), mediaType, callIndex }),
  }

  const server = createServer(async (req, res) => {
    const raw = await readBody(req)
    const path = req.url ?? '/'
    const geminiPath = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path)
    const filePath = /^\/files\/(\d+)(?:-(\d+)x(\d+))?\.png$/.exec(path)
    const shape: UpstreamCall['shape'] =
      req.method === 'POST' && path === '/v1/images/generations'
        ? 'openai'
        : req.method === 'POST' && path === '/v1/images/edits'
          ? 'openai_edit'
          : req.method === 'POST' && geminiPath
            ? 'gemini'
            : req.method === 'GET' && filePath
              ? 'file'
              : 'unknown'
    let body: unknown
    let files: ReceivedFile[] | undefined
    let unreadable: string | undefined
    if (shape === 'openai_edit') {
      try {
        ;({ fields: body, files } = await parseMultipart(req.headers, raw))
      } catch (error) {
        unreadable = error instanceof Error ? error.message : String(error)
        body = raw.toString('utf8')
      }
    } else {
      body = parseJsonOrText(raw.toString('utf8'))
    }
    const model =
      shape === 'gemini'
        ? decodeURIComponent(geminiPath?.[1] ?? '')
        : (shape === 'openai' || shape === 'openai_edit') &&
            isRecord(body) &&
            typeof body.model === 'string'
          ? body.model
          : undefined
    const call: UpstreamCall = {
      shape,
      method: req.method ?? '',
      path,
      model,
      headers: req.headers,
      body,
      fault: undefined,
      raw,
    }
    if (files) {
      call.files = files
    }
    calls.push(call)

    if (shape === 'file') {
      const [, callIndex, width, height] = filePath ?? []
      const file =
        width && height
          ? sizedPng(Number(width), Number(height))
          : options.imageBase64For
            ? Buffer.from(options.imageBase64For(Number(callIndex)), 'base64')
            : image
      send(res, {
        status: 200,
        headers: { 'content-type': width ? 'image/png' : mediaType },
        body: file,
      })
      return
    }
    if (shape === 'unknown') {
      send(res, json(404, { error: { message: `No route for ${req.method} ${path}` } }))
      return
    }
    const invalid =
      shape === 'openai_edit' ? (unreadable ?? invalidEdit(body, files ?? [])) : undefined
    if (invalid !== undefined) {
      // As OpenAI does, before any work: a malformed request costs no scripted fault.
      send(
        res,
        json(400, {
          error: { message: invalid, type: 'invalid_request_error', param: null, code: null },
        }),
      )
      return
    }
    const fault = normalise(queue.shift() ?? fallback)
    call.fault = fault.mode
    if (
      shape !== 'gemini' &&
      isRecord(body) &&
      String(body.stream) === 'true' &&
      (fault.mode === 'ok' || fault.mode === 'stream_error_after_partial')
    ) {
      const callIndex = calls.length - 1
      const reply = answers[shape]({ ...fault, mode: 'ok' }, body, callIndex)
      const answered = JSON.parse(String(reply.body)) as Record<string, unknown>
      streamEvents(res, call, {
        operation: shape === 'openai' ? 'image_generation' : 'image_edit',
        answered,
        request: body,
        partialBase64: (partialIndex) =>
          options.partialBase64For?.(callIndex, partialIndex) ??
          partialPng(String(answered.size ?? '720x720'), partialIndex),
        failAfterPartial: fault.mode === 'stream_error_after_partial',
        delayMs: fault.eventDelayMs,
        completedAfter: fault.completedAfter,
        timers,
      })
      return
    }
    const reply = answers[shape](fault, isRecord(body) ? body : {}, calls.length - 1)
    if (typeof reply.body === 'string') {
      call.answer = reply.body
    }
    if (!fault.delayMs) {
      send(res, reply)
      return
    }
    const timer = setTimeout(() => {
      timers.delete(timer)
      send(res, reply)
    }, fault.delayMs)
    timers.add(timer)
  })

  // Tests may block the event loop for a while; an idle keep-alive socket must not expire meanwhile.
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    image,
    calls,
    script(faults) {
      queue = [...faults]
    },
    setDefault(fault) {
      fallback = fault
    },
    reset() {
      calls.length = 0
      queue = []
      fallback = 'ok'
    },
    async close() {
      for (const timer of timers) {
        clearTimeout(timer)
      }
      timers.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      )
    },
  }
}

function normalise(
  fault: Fault,
): Script & { delayMs: number; eventDelayMs: number; completedAfter?: Promise<void> } {
  const spelled = typeof fault === 'string' ? { mode: fault } : fault
  return {
    ...(spelled.completedAfter === undefined ? {} : { completedAfter: spelled.completedAfter }),
    mode: spelled.mode,
    delayMs: spelled.delayMs ?? 0,
    eventDelayMs: spelled.eventDelayMs ?? 0,
    retryAfterSeconds: spelled.retryAfterSeconds ?? 1,
  }
}

function retryAfter(script: Script): Record<string, string> {
  if (script.mode === 'rate_limit_date') {
    // HTTP-dates have whole seconds: round up so the advised wait is never shorter than asked.
    const at = Math.ceil((Date.now() + script.retryAfterSeconds * 1000) / 1000) * 1000
    return { 'retry-after': new Date(at).toUTCString() }
  }
  return { 'retry-after': String(script.retryAfterSeconds) }
}

function openAIReply(
  script: Script,
  request: Record<string, unknown>,
  context: {
    base64: string
    fileUrl: string
    /** The size of the image answered, as GPT Image reports it. */
    size: string | undefined
    /** Edits: the images sent, which GPT Image counts as input image tokens. */
    inputImages: number
  },
): Reply {
  const model = typeof request.model === 'string' ? request.model : 'gpt-image-1'
  const gptImage = !model.startsWith('dall-e')
  // A number in JSON, a text field in multipart.
  const asked = Number(request.n ?? 1)
  const n = Number.isInteger(asked) ? Math.min(Math.max(1, asked), 10) : 1
  const error = (status: number, code: string | null, type: string, message: string) =>
    json(status, { error: { message, type, param: null, code } })
  // GPT Image answers say what they made and what it used; DALL·E answers only the images.
  const textTokens = 12
  const imageTokens = 194 * context.inputImages
  const outputTokens = 1056 * n
  const image = (b64: string) =>
    json(200, {
      created: 1763726400,
      ...(gptImage ? { background: oneOf(request.background, BACKGROUNDS, 'opaque') } : {}),
      data: Array.from({ length: n }, () =>
        gptImage ? { b64_json: b64 } : { b64_json: b64, revised_prompt: `${request.prompt}` },
      ),
      ...(gptImage
        ? {
            output_format: 'png',
            quality: oneOf(request.quality, QUALITIES, 'medium'),
            ...(context.size ? { size: context.size } : {}),
            usage: {
              input_tokens: textTokens + imageTokens,
              input_tokens_details: { image_tokens: imageTokens, text_tokens: textTokens },
              output_tokens: outputTokens,
              total_tokens: textTokens + imageTokens + outputTokens,
            },
          }
        : {}),
    })

  switch (script.mode) {
    case 'ok':
    case 'url':
      // DALL·E answers a URL unless asked for base64; GPT Image always answers base64.
      if (script.mode === 'url' || (!gptImage && request.response_format !== 'b64_json')) {
        return json(200, {
          created: 1763726400,
          data: Array.from({ length: n }, () => ({ url: context.fileUrl })),
        })
      }
      return image(context.base64)
    case 'rate_limit_seconds':
    case 'rate_limit_date':
      return {
        ...error(429, 'rate_limit_exceeded', 'requests', `Rate limit reached for ${model}.`),
        headers: { 'content-type': 'application/json', ...retryAfter(script) },
      }
    case 'insufficient_quota':
      return error(429, 'insufficient_quota', 'insufficient_quota', 'You exceeded your quota.')
    case 'unauthorized':
      return error(401, 'invalid_api_key', 'invalid_request_error', 'Incorrect API key provided.')
    case 'server_error_500':
      return error(500, null, 'server_error', 'The server had an error processing your request.')
    case 'bad_gateway_502':
      return {
        status: 502,
        headers: { 'content-type': 'text/html' },
        body: '<h1>502 Bad Gateway</h1>',
      }
    case 'unavailable_503':
      return error(503, null, 'server_error', 'The engine is currently overloaded.')
    case 'reset_after_headers':
      return { ...image(context.base64), reset: true }
    case 'malformed_json':
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"created":1763726400,"data":[{"b64_json":',
      }
    case 'truncated_base64':
      return image(truncate(context.base64))
    case 'safety_block':
      return json(400, {
        error: {
          message: 'Your request was rejected by the safety system.',
          type: 'image_generation_user_error',
          param: null,
          code: 'moderation_blocked',
          moderation_details: { moderation_stage: 'input', categories: ['violence'] },
        },
      })
    case 'prompt_blocked':
      return error(
        400,
        'content_policy_violation',
        'invalid_request_error',
        'Your request was rejected as a result of our safety system.',
      )
    case 'no_image':
      return json(200, { created: 1763726400, data: [] })
    case 'missing_thought_signature':
      return error(400, null, 'invalid_request_error', 'Invalid request.')
    case 'stream_error_after_partial':
      return error(400, null, 'invalid_request_error', 'This mode is for streamed requests.')
  }
}

/**
 * OpenAI's streamed Images answer: `partial_images` partial image events, then the completed
 * event carrying the answer's image, settings and usage, each an `event:` line and a `data:`
 * line, written one by one (`delayMs` apart) with no Content-Length, as OpenAI sends them.
 */
function streamEvents(
  res: ServerResponse,
  call: UpstreamCall,
  context: {
    operation: 'image_generation' | 'image_edit'
    answered: Record<string, unknown>
    request: Record<string, unknown>
    partialBase64: (partialIndex: number) => string
    failAfterPartial: boolean
    delayMs: number
    completedAfter: Promise<void> | undefined
    timers: Set<NodeJS.Timeout>
  },
): void {
  const { operation, answered, request } = context
  const asked = Number(request.partial_images ?? 0)
  const partials = Number.isInteger(asked) ? Math.min(Math.max(0, asked), 3) : 0
  const settings = {
    size: answered.size ?? 'auto',
    quality: answered.quality ?? 'auto',
    background: answered.background ?? 'auto',
    output_format: answered.output_format ?? 'png',
  }
  const [image] = answered.data as { b64_json: string }[]
  const events: { type: string; data: Record<string, unknown>; base64: string }[] = []
  for (let index = 0; index < partials; index++) {
    const base64 = context.partialBase64(index)
    const type = `${operation}.partial_image`
    const data = { type, b64_json: base64, created_at: 1763726400, ...settings }
    events.push({ type, data: { ...data, partial_image_index: index }, base64 })
    if (context.failAfterPartial) {
      const error = { type: 'server_error', code: null, message: 'The model failed.', param: null }
      events.push({ type: 'error', data: { type: 'error', error }, base64: '' })
      break
    }
  }
  if (!context.failAfterPartial) {
    const type = `${operation}.completed`
    const data = {
      type,
      b64_json: image?.b64_json ?? '',
      created_at: 1763726400,
      ...settings,
      usage: answered.usage,
    }
    events.push({ type, data, base64: image?.b64_json ?? '' })
  }
  call.events = []
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
  const next = () => {
    const event = events.shift()
    if (event === undefined || res.destroyed) {
      res.end()
      return
    }
    if (event.type.endsWith('.completed') && context.completedAfter) {
      const held = context.completedAfter
      context.completedAfter = undefined
      events.unshift(event)
      void held.then(next)
      return
    }
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`
    const sent = {
      type: event.type,
      sentAt: performance.timeOrigin + performance.now(),
      sentUntil: Number.NaN,
      base64: event.base64,
    }
    call.events?.push(sent)
    res.write(frame, () => {
      sent.sentUntil = performance.timeOrigin + performance.now()
      later(next)
    })
  }
  const later = (run: () => void) => {
    const timer = setTimeout(() => {
      context.timers.delete(timer)
      run()
    }, context.delayMs)
    context.timers.add(timer)
  }
  later(next)
}

const partialPngs = new Map<string, string>()

/** A noise PNG of `size` (`<w>x<h>`, 720x720 for `auto`) per partial index, made once. */
function partialPng(size: string, partialIndex: number): string {
  const key = `${size}:${partialIndex}`
  let base64 = partialPngs.get(key)
  if (base64 === undefined) {
    const [width, height] = /^\d+x\d+$/.test(size) ? size.split('x').map(Number) : [720, 720]
    base64 = Buffer.from(noisePng(width, height, 0x5eed + partialIndex)).toString('base64')
    partialPngs.set(key, base64)
  }
  return base64
}

function geminiReply(
  script: Script,
  context: { base64: string; mediaType: string; callIndex: number },
): Reply {
  const error = (status: number, code: string, message: string) =>
    json(status, { error: { code: status, message, status: code } })
  const candidate = (parts: unknown[], finishReason = 'STOP') =>
    json(200, {
      candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 1120, totalTokenCount: 1132 },
      modelVersion: 'fake-gemini-image',
    })
  const image = (data: string) =>
    candidate([
      { text: 'Planning the composition.', thought: true },
      {
        text: 'Here is your image.',
        thoughtSignature: Buffer.from(`fake-text-signature-${context.callIndex}`).toString(
          'base64',
        ),
      },
      {
        inlineData: { mimeType: context.mediaType, data },
        thoughtSignature: Buffer.from(`fake-signature-${context.callIndex}`).toString('base64'),
      },
    ])

  switch (script.mode) {
    case 'ok':
    case 'url':
      return image(context.base64)
    case 'rate_limit_seconds':
    case 'rate_limit_date':
      return {
        ...error(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'),
        headers: { 'content-type': 'application/json', ...retryAfter(script) },
      }
    case 'insufficient_quota':
      return error(
        429,
        'RESOURCE_EXHAUSTED',
        'Quota exceeded for metric: generate_content_free_tier_requests, limit: 0',
      )
    case 'unauthorized':
      return error(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.')
    case 'server_error_500':
      return error(500, 'INTERNAL', 'An internal error has occurred.')
    case 'bad_gateway_502':
      return {
        status: 502,
        headers: { 'content-type': 'text/html' },
        body: '<h1>502 Bad Gateway</h1>',
      }
    case 'unavailable_503':
      return error(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.')
    case 'reset_after_headers':
      return { ...image(context.base64), reset: true }
    case 'malformed_json':
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"candidates":[{"content":',
      }
    case 'truncated_base64':
      return image(truncate(context.base64))
    case 'safety_block':
      return json(200, {
        candidates: [
          {
            finishReason: 'IMAGE_SAFETY',
            finishMessage: 'Unable to show the generated image.',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
      })
    case 'prompt_blocked':
      return json(200, {
        promptFeedback: { blockReason: 'PROHIBITED_CONTENT' },
        usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
      })
    case 'no_image':
      return candidate([{ text: 'I can only describe this scene in words.' }])
    case 'stream_error_after_partial':
      return error(400, 'INVALID_ARGUMENT', 'generateContent does not stream this way.')
    case 'missing_thought_signature':
      return error(
        400,
        'INVALID_ARGUMENT',
        'Image part is missing a thought_signature in content position 2, part position 2. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.',
      )
  }
}

const QUALITIES = ['low', 'medium', 'high'] as const
const BACKGROUNDS = ['transparent', 'opaque'] as const

/** The value asked for when the answer can name it, else what "auto" turned into. */
function oneOf<T extends string>(asked: unknown, values: readonly T[], auto: T): T {
  return values.find((value) => value === asked) ?? auto
}

/** A PNG's `<width>x<height>` from its header; undefined for anything else. */
function pngSize(bytes: Uint8Array): string | undefined {
  const png = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (png.length < 24 || png.toString('latin1', 12, 16) !== 'IHDR') {
    return undefined
  }
  return `${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`
}

/** Half the base64, cut at a 4-character boundary so it still decodes. */
function truncate(base64: string): string {
  return base64.slice(0, Math.floor(base64.length / 8) * 4)
}

function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.socket?.destroyed) {
    return
  }
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.from(reply.body)
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) })
  if (!reply.reset) {
    res.end(body)
    return
  }
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy())
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** A multipart body's text fields by name and its files in order, each file hashed. */
function parseMultipart(
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<{ fields: Record<string, string>; files: ReceivedFile[] }> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {}
    const files: ReceivedFile[] = []
    const pending: Promise<void>[] = []
    const parser = busboy({ headers })
    parser.on('field', (name, value) => {
      fields[name] = value
    })
    parser.on('file', (name, stream, info) => {
      // Its place is taken now, so files keep their order whenever each one ends.
      const file: ReceivedFile = {
        name,
        filename: info.filename,
        contentType: info.mimeType,
        size: 0,
        sha256: '',
      }
      files.push(file)
      const hash = createHash('sha256')
      pending.push(
        new Promise((done, fail) => {
          stream.on('data', (chunk: Buffer) => {
            hash.update(chunk)
            file.size += chunk.length
          })
          stream.on('end', () => {
            file.sha256 = hash.digest('hex')
            done()
          })
          stream.on('error', fail)
        }),
      )
    })
    parser.on('close', () => {
      Promise.all(pending).then(() => resolve({ fields, files }), reject)
    })
    parser.on('error', reject)
    parser.end(body)
  })
}

/** What OpenAI itself refuses before any work: no prompt, no image. */
function invalidEdit(fields: unknown, files: ReceivedFile[]): string | undefined {
  if (!isRecord(fields) || typeof fields.prompt !== 'string' || fields.prompt === '') {
    return "Missing required parameter: 'prompt'."
  }
  if (!files.some((file) => file.name === 'image' || file.name === 'image[]')) {
    return "Missing required parameter: 'image'."
  }
  return undefined
}

/** `size` as sent (`1536x1024`); `auto`, absent or unreadable answer the default 1024x1024. */
function editSize(size: unknown): { width: number; height: number } {
  const match = typeof size === 'string' ? /^(\d{1,4})x(\d{1,4})$/.exec(size) : null
  const width = Number(match?.[1] ?? 0)
  const height = Number(match?.[2] ?? 0)
  return width > 0 && height > 0 ? { width, height } : { width: 1024, height: 1024 }
}

const sizedPngs = new Map<string, Uint8Array>()

/** A noise PNG of this size, made once per size. */
function sizedPng(width: number, height: number): Uint8Array {
  const key = `${width}x${height}`
  let png = sizedPngs.get(key)
  if (png === undefined) {
    png = noisePng(width, height)
    sizedPngs.set(key, png)
  }
  return png
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
