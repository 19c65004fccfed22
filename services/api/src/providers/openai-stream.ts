import { z } from 'zod'
import { MalformedEventError, type PassThrough, readEventParts } from './event-stream.ts'
import {
  type ErrorAnswer,
  type FetchResponse,
  readJsonAnswer,
  sendUpstream,
  timed,
  transportFailure,
  type UpstreamPost,
} from './http-errors.ts'
import { parseJsonBytes } from './json-bytes.ts'
import {
  handOnPartial,
  type PartialImage,
  type PartialImageWriter,
  UpstreamFailure,
} from './types.ts'

/**
 * OpenAI's streamed Images answer (`stream: true`): `image_generation.partial_image` /
 * `image_edit.partial_image` events while the model works, then one `…completed` event with the
 * final image, its settings and usage.
 */

const optional = <T extends z.ZodType>(schema: T) => schema.nullish().catch(undefined)

const partialFieldsSchema = z.object({
  partial_image_index: z.number().int().nonnegative(),
  size: optional(z.string().regex(/^(auto|[1-9]\d{0,4}x[1-9]\d{0,4})$/)),
  quality: optional(z.enum(['low', 'medium', 'high', 'auto'])),
  background: optional(z.enum(['transparent', 'opaque', 'auto'])),
  output_format: optional(z.enum(['png', 'jpeg', 'webp'])),
})

const eventTypeSchema = z.object({ type: z.string().optional() })

/**
 * Posts a streamed request and hands each partial image on as it arrives: its base64 goes to
 * the writer chunk by chunk while the upstream is still sending it, and its fields once its
 * event has ended. Resolves to the completed event as an Images answer (`{ data: [{ b64_json }],
 * size, quality, … }`) that the adapter reads as it reads an answer that did not stream. An
 * upstream that answers JSON instead (it ignored `stream`) is read as such.
 */
export async function postImageEvents(
  post: UpstreamPost,
  init: RequestInit,
  onPartialImage: () => PartialImageWriter,
): Promise<unknown> {
  const response = await sendUpstream(post, init)
  const contentType = response.headers.get('content-type') ?? ''
  if (!/^text\/event-stream/i.test(contentType)) {
    return readJsonAnswer(post, response)
  }
  // The partial being passed through: its writer, its JSON's start, how much base64 went by.
  let passing: { writer: PartialImageWriter; head: Buffer; length: number } | undefined
  try {
    for await (const part of readEventParts(bodyChunks(response), PASS_PARTIALS)) {
      if (part.kind === 'begin') {
        passing = { writer: onPartialImage(), head: part.head, length: 0 }
        continue
      }
      if (part.kind === 'piece') {
        if (passing) {
          passing.length += part.piece.length
          passing.writer.base64(part.piece)
        }
        continue
      }
      if (part.kind === 'end') {
        const passed = passing
        passing = undefined
        if (passed) {
          const fields = timed(post.processing, () =>
            readPartialFields(post, Buffer.concat([passed.head, part.rest]), passed.length),
          )
          passed.writer.end(fields)
        }
        continue
      }
      const type = eventType(part.event, part.data)
      if (type?.endsWith('.partial_image')) {
        handOnPartial(
          onPartialImage,
          timed(post.processing, () => readPartial(post, part.data)),
        )
      } else if (type?.endsWith('.completed')) {
        return timed(post.processing, () => completedAnswer(post, part.data))
      } else if (type === 'error' || part.event === 'error') {
        throw post.classifyError(errorAnswer(part.data))
      }
    }
  } catch (error) {
    if (error instanceof UpstreamFailure) {
      throw error
    }
    if (error instanceof MalformedEventError) {
      throw new UpstreamFailure('bad_response', post.provider, error.message, {
        status: 200,
        cause: error,
      })
    }
    throw transportFailure(post.provider, error, post.signal, 'body')
  }
  throw new UpstreamFailure(
    'ambiguous',
    post.provider,
    'The upstream ended its event stream before the completed image',
    { status: response.status },
  )
}

/** Partial image events are passed through from their `b64_json`; others are read whole. */
const PASS_PARTIALS: PassThrough = {
  key: 'b64_json',
  accept(event, json) {
    const type = event !== undefined && event !== 'message' ? event : json.type
    return typeof type === 'string' && type.endsWith('.partial_image')
  },
}

/** The fields of a passed-through partial image's event (its JSON with `b64_json` empty). */
function readPartialFields(
  post: UpstreamPost,
  json: Buffer,
  base64Length: number,
): Omit<PartialImage, 'base64'> {
  const fields = partialFieldsSchema.safeParse(safeJson(json.toString('utf8')))
  if (!fields.success || base64Length === 0) {
    throw new UpstreamFailure(
      'bad_response',
      post.provider,
      'The upstream sent a partial image event without its image',
      { status: 200, cause: fields.error },
    )
  }
  return partialOf(fields.data)
}

function partialOf({
  partial_image_index: index,
  size,
  quality,
  background,
  output_format,
}: z.infer<typeof partialFieldsSchema>): Omit<PartialImage, 'base64'> {
  return {
    index,
    ...(size ? { size } : {}),
    ...(quality ? { quality } : {}),
    ...(background ? { background } : {}),
    ...(output_format ? { outputFormat: output_format } : {}),
  }
}

/** The event's `type`: the `event:` line's, or the data's own when the line was absent. */
function eventType(event: string | undefined, data: Buffer): string | undefined {
  if (event !== undefined && event !== 'message') {
    return event
  }
  // The type is near the start; the base64 after it need not be scanned.
  const head = data.toString('utf8', 0, Math.min(data.length, 200))
  const match = /"type"\s*:\s*"([a-z_.]+)"/.exec(head)
  if (match) {
    return match[1]
  }
  return eventTypeSchema.safeParse(safeJson(data.toString('utf8'))).data?.type
}

/** A partial image's event, its base64 kept as the bytes that arrived (no megabyte string). */
function readPartial(post: UpstreamPost, data: Buffer): PartialImage {
  const lifted = liftBase64(data)
  const fields = partialFieldsSchema.safeParse(lifted?.rest ?? safeJson(data.toString('utf8')))
  const base64 =
    lifted?.base64 ?? base64OfParsed(safeJson(data.toString('utf8')) as Record<string, unknown>)
  if (!fields.success || base64 === undefined || base64.length === 0) {
    throw new UpstreamFailure(
      'bad_response',
      post.provider,
      'The upstream sent a partial image event without its image',
      { status: 200, cause: fields.error },
    )
  }
  return { base64, ...partialOf(fields.data) }
}

function base64OfParsed(json: Record<string, unknown> | undefined): Buffer | undefined {
  const text = json?.b64_json
  return typeof text === 'string' ? Buffer.from(text, 'latin1') : undefined
}

const B64_KEY = Buffer.from('"b64_json"')
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * `b64_json`'s value as a view of `data`, and the rest of the JSON parsed without it; undefined
 * when the value is not a plain string (escapes), which the caller then reads the slow way.
 */
function liftBase64(data: Buffer): { base64: Buffer; rest: unknown } | undefined {
  const key = data.indexOf(B64_KEY)
  if (key === -1) {
    return undefined
  }
  let open = key + B64_KEY.length
  while (open < data.length && data[open] !== QUOTE) {
    const byte = data[open]
    if (byte !== 0x3a && byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) {
      return undefined
    }
    open++
  }
  const close = data.indexOf(QUOTE, open + 1)
  if (close === -1 || data.subarray(open + 1, close).includes(BACKSLASH)) {
    return undefined
  }
  const rest = safeJson(`${data.toString('utf8', 0, open)}""${data.toString('utf8', close + 1)}`)
  return rest === undefined ? undefined : { base64: data.subarray(open + 1, close), rest }
}

/** The completed event as an Images answer of one image. */
function completedAnswer(post: UpstreamPost, data: Buffer): unknown {
  let event: unknown
  try {
    event = parseJsonBytes(data, { base64: post.base64 ?? 'string' })
  } catch (cause) {
    throw new UpstreamFailure(
      'bad_response',
      post.provider,
      'The upstream sent a completed event that is not JSON',
      { status: 200, cause },
    )
  }
  const {
    b64_json,
    type: _type,
    created_at: _createdAt,
    ...settings
  } = (event ?? {}) as Record<string, unknown>
  return { data: b64_json === undefined ? [] : [{ b64_json }], ...settings }
}

/** An `error` event as the error answer the adapter classifies (Chat's and Responses' shapes). */
function errorAnswer(data: Buffer): ErrorAnswer {
  const json = safeJson(data.toString('utf8')) as Record<string, unknown> | undefined
  const body = json && typeof json.error === 'object' ? json : { error: json ?? {} }
  return { status: 200, headers: new Headers(), body, retryAfterMs: undefined }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The body as it arrives, whether the fetch gave a web stream or a Node stream. */
async function* bodyChunks(response: FetchResponse): AsyncGenerator<Uint8Array> {
  const body = response.body
  if (!body) {
    return
  }
  if (Symbol.asyncIterator in body) {
    yield* body as AsyncIterable<Uint8Array>
    return
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        return
      }
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}
