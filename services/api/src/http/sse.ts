/**
 * A `text/event-stream` answer written as events happen. Each event is an `event:` line and one
 * `data:` line (JSON has no raw newlines), sent in pieces so that megabytes of base64 are passed
 * on as the views they are, never joined into one string.
 */

export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // nginx buffers answers unless told not to; an event held back is one the client waits for.
  'x-accel-buffering': 'no',
}

/** One event's bytes: `event: <name>`, `data: <pieces…>`, a blank line. */
export function eventFrame(name: string, data: readonly Uint8Array[]): Uint8Array[] {
  return [Buffer.from(`event: ${name}\ndata: `), ...data, Buffer.from('\n\n')]
}

const KEEP_ALIVE = Buffer.from(': keep-alive\n\n')

export type EventStream = {
  /** The answer's body. */
  readonly body: ReadableStream<Uint8Array>
  /** False once the client has gone or the stream was closed: sending is then a no-op. */
  readonly open: boolean
  /**
   * Sends a frame, or with `more` the start of one whose rest follows in later sends: no
   * comment line goes out until the frame is complete, since it would land inside it.
   */
  send(frame: readonly Uint8Array[], options?: { more?: boolean }): void
  close(): void
}

/**
 * An event stream that writes a comment line whenever nothing was sent for `keepAliveMs`. A
 * client that goes away cancels the body: later events are dropped, and whatever produces them
 * goes on (a paid generation is finished and stored whether or not anyone is reading).
 */
export function createEventStream(options: { keepAliveMs: number }): EventStream {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  let open = true
  let timer: NodeJS.Timeout | undefined
  let midFrame = false

  const stop = () => {
    open = false
    clearTimeout(timer)
  }
  const keepAlive = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      if (open && !midFrame) {
        controller?.enqueue(KEEP_ALIVE)
        keepAlive()
      }
    }, options.keepAliveMs)
  }

  const body = new ReadableStream<Uint8Array>({
    start(given) {
      controller = given
      keepAlive()
    },
    cancel() {
      stop()
    },
  })

  return {
    body,
    get open() {
      return open
    },
    send(frame, options) {
      if (!open) {
        return
      }
      for (const piece of frame) {
        controller?.enqueue(piece)
      }
      midFrame = options?.more === true
      keepAlive()
    },
    close() {
      if (!open) {
        return
      }
      stop()
      controller?.close()
    },
  }
}
