import type { Context } from 'hono'
import type { StoredResponse } from '../../access/idempotency-store.ts'
import type { AppDeps } from '../../deps.ts'
import type { AppEnv } from '../../http/env.ts'
import { createEventStream, EVENT_STREAM_HEADERS } from '../../http/sse.ts'
import type { PartialImage, PartialImageWriter } from '../../providers/types.ts'
import { toAppError } from '../../services/generation/failures.ts'
import { planStream } from '../../services/generation/stream.ts'
import type { PreparedGeneration } from '../../services/generation/types.ts'
import {
  completedFrame,
  errorFrame,
  partialHead,
  partialTail,
  requestedSettings,
  type StreamOperation,
} from './stream-events.ts'

export type StreamAnswerDeps = Pick<AppDeps, 'clock' | 'config' | 'generation' | 'inFlight'>

/**
 * The answer to `stream: true`: Server-Sent Events exactly as OpenAI sends them. Everything
 * that can refuse the request (the model does not stream, credits, rate limits) does so before
 * the stream starts, as an ordinary error answer. Then partial images go out as the provider
 * sends them, byte by byte as their base64 arrives, and the completed event once the final image
 * is verified, stored and recorded. A partial whose upstream event broke off is closed as it
 * stands (the base64 so far, the fields as requested) before the next event, so the stream stays
 * well formed; partial images are previews and never verified.
 *
 * The generation does not depend on the connection: a client that goes away stops receiving,
 * and the image it paid for is still finished, stored, recorded and charged. A failure after
 * the start is an `error` event, the last one. The outcome is handed to the idempotency layer
 * (`streamedAnswer`) as the completed event alone, which is what a replay of the key answers.
 */
export async function streamAnswer(
  c: Context<AppEnv>,
  deps: StreamAnswerDeps,
  prepared: PreparedGeneration,
  request: { operation: StreamOperation; partialImages: number | undefined },
): Promise<Response> {
  const { partialImages } = planStream(prepared.model, prepared.plan.n, request.partialImages)
  const held = await deps.generation.hold(prepared, c.get('charge'))
  const events = createEventStream({ keepAliveMs: deps.config.streamKeepAliveMs })
  const requested = requestedSettings(prepared)
  const now = () => Math.floor(deps.clock.now().getTime() / 1000)

  // The partial whose event is still going out: anything else sent first closes it (below).
  let openPartial: { index: number } | undefined
  let partialsBegun = 0
  const closeOpenPartial = () => {
    if (openPartial) {
      endPartial(openPartial, { index: openPartial.index })
    }
  }
  const endPartial = (partial: { index: number }, fields: Omit<PartialImage, 'base64'>) => {
    if (openPartial === partial) {
      openPartial = undefined
      events.send([partialTail(fields, requested, now())])
    }
  }
  const partials =
    partialImages > 0
      ? {
          partialImages,
          onPartialImage(): PartialImageWriter {
            closeOpenPartial()
            const partial = { index: partialsBegun++ }
            openPartial = partial
            events.send([partialHead(request.operation)], { more: true })
            return {
              base64(piece) {
                if (openPartial === partial) {
                  events.send([piece], { more: true })
                }
              },
              end: (fields) => endPartial(partial, fields),
            }
          },
        }
      : undefined
  async function finish(): Promise<StoredResponse | undefined> {
    try {
      const outcome = await deps.generation.complete(held, undefined, partials)
      // Its pieces are views of the provider's answer: they are left to the garbage collector
      // (not released) since the socket may still be writing them.
      const frame = completedFrame(request.operation, outcome, requested, now())
      closeOpenPartial()
      events.send(frame)
      events.close()
      return {
        status: 200,
        headers: Object.entries(EVENT_STREAM_HEADERS),
        body: Buffer.concat(frame),
      }
    } catch (thrown) {
      const err = toAppError(thrown)
      if (err.status >= 500) {
        c.get('log')?.error({ err: err.cause ?? err, code: err.code }, 'streamed request failed')
      }
      closeOpenPartial()
      events.send(errorFrame(err, c.get('requestId')))
      events.close()
      return undefined
    }
  }
  const finished = finish()
  deps.inFlight.track(finished)
  c.set('streamedAnswer', finished)
  return new Response(events.body, { status: 200, headers: EVENT_STREAM_HEADERS })
}
