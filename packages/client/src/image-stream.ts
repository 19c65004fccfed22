import type { ApiClient } from './api-client.js'
import { type EditRequest, editForm } from './edits.js'
import { ImagegateError } from './errors.js'
import type { components } from './schema.js'

export type ImageGenerationStreamEvent = components['schemas']['ImageGenerationStreamEvent']
export type ImageEditStreamEvent = components['schemas']['ImageEditStreamEvent']
type StreamEvent = ImageGenerationStreamEvent | ImageEditStreamEvent

/** The events a stream yields: its `error` event is thrown instead (see readImageStream). */
export type StreamedImageEvent<E extends StreamEvent> = Exclude<E, { type: 'error' }>

export type ImageStreamRequest = Omit<
  components['schemas']['ImageGenerationRequest'],
  'stream' | 'response_format'
>

export type StreamOptions = {
  signal?: AbortSignal
  /** Sent as `Idempotency-Key`: a replay answers the stored completed event alone. */
  idempotencyKey?: string
}

/**
 * The events of a streamed answer (`text/event-stream`) as they arrive, parsed and typed, for
 * any fetch Response (Node 20+, browsers, workers). Comment lines are skipped; an `error` event
 * is thrown as an ImagegateError with the error body, after the events before it were yielded.
 * Breaking out of the loop cancels the body (the generation goes on and is stored).
 */
export async function* readImageStream<E extends StreamEvent = ImageGenerationStreamEvent>(
  response: Response,
): AsyncGenerator<StreamedImageEvent<E>, void, undefined> {
  if (!response.body) {
    return
  }
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let scanned = 0
  let data: string[] = []
  try {
    for (;;) {
      const { done, value } = await reader.read()
      text += done ? decoder.decode() : decoder.decode(value, { stream: true })
      let start = 0
      for (;;) {
        const newline = text.indexOf('\n', Math.max(start, scanned))
        if (newline === -1) {
          break
        }
        const line = text.slice(start, text[newline - 1] === '\r' ? newline - 1 : newline)
        start = newline + 1
        if (line === '') {
          if (data.length > 0) {
            const event = JSON.parse(data.join('\n')) as E
            data = []
            if (event.type === 'error') {
              throw new ImagegateError(response.status, event, response.headers)
            }
            yield event as StreamedImageEvent<E>
          }
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line[5] === ' ' ? 6 : 5))
        }
      }
      text = text.slice(start)
      scanned = text.length
      if (done) {
        return
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/** Streamed generations and edits: `stream: true` sent, the events iterated. */
export function streamHelpers(client: ApiClient) {
  return {
    /**
     * POST /v1/images/generations with `stream: true`. Resolves once the stream has started:
     * a refusal before it (402, 429, a model that does not stream) rejects as ImagegateError.
     */
    async streamImages(
      request: ImageStreamRequest,
      options: StreamOptions = {},
    ): Promise<AsyncGenerator<StreamedImageEvent<ImageGenerationStreamEvent>, void, undefined>> {
      const { response } = await client.POST('/v1/images/generations', {
        body: { ...request, stream: true },
        parseAs: 'stream',
        ...requestOptions(options),
      })
      return readImageStream<ImageGenerationStreamEvent>(response)
    },

    /** POST /v1/images/edits with `stream=true`, as streamImages. */
    async streamImageEdit(
      request: Omit<EditRequest, 'stream'>,
      options: StreamOptions = {},
    ): Promise<AsyncGenerator<StreamedImageEvent<ImageEditStreamEvent>, void, undefined>> {
      const { response } = await client.POST('/v1/images/edits', {
        body: editForm({ ...request, stream: 'true' }) as never,
        bodySerializer: (body: unknown) => body as FormData,
        parseAs: 'stream',
        ...requestOptions(options),
      })
      return readImageStream<ImageEditStreamEvent>(response)
    },
  }
}

function requestOptions(options: StreamOptions) {
  return {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.idempotencyKey ? { headers: { 'idempotency-key': options.idempotencyKey } } : {}),
  }
}
