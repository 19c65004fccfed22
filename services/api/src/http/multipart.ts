import { Readable } from 'node:stream'
import type { ReadableStream as NodeWebStream } from 'node:stream/web'
import busboy from 'busboy'
import type { Context } from 'hono'
import {
  InvalidRequestError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../errors/app-error.ts'
import { nodeBindings } from './server/node-bindings.ts'

export type MultipartFile = { field: string; filename: string | undefined; stream: Readable }

export type MultipartOptions<T> = {
  /** The one file part's field name (e.g. `file`, `image`). */
  fileFields: string[]
  maxFiles: number
  /** Consumes a file part; resolves once the part is fully stored. */
  onFile(file: MultipartFile): Promise<T>
  /**
   * The body as the Node stream it arrives on, when the server has one (see `nodeRequestBody`).
   * Read directly, it skips two stream conversions per chunk (Node → web for the Request, web →
   * Node for busboy). Without it, `request.body` is read (in-process `app.request` calls).
   */
  body?: Readable
}

/**
 * The raw Node request @hono/node-server hands the app as `c.env.incoming`, as a readable body;
 * undefined for requests made in process (`app.request`, `app.fetch`), which only have the web
 * stream. Only for a route that has not read the body through `c.req` (no body validator).
 */
export function nodeRequestBody(c: Context): Readable | undefined {
  const { incoming } = nodeBindings(c)
  return incoming instanceof Readable ? incoming : undefined
}

/**
 * Streams a multipart body: text fields are collected, each file part is handed to `onFile`
 * as a stream, so no upload is ever held whole in memory.
 */
export async function readMultipart<T>(
  request: Request,
  options: MultipartOptions<T>,
): Promise<{ fields: Record<string, string>; files: { field: string; result: T }[] }> {
  const contentType = request.headers.get('content-type') ?? ''
  const raw = options.body
  // `request.body` is not touched when the raw body is given: that would build the web stream.
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    throw new UnsupportedMediaTypeError('Expected a multipart/form-data body')
  }
  if (!(raw ?? request.body)) {
    throw new InvalidRequestError('Expected a multipart/form-data body')
  }
  let parser: busboy.Busboy
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      limits: { fields: 32, fieldSize: 64 * 1024, files: options.maxFiles, parts: 64 },
    })
  } catch (err) {
    throw new InvalidRequestError('Malformed multipart/form-data content type', { cause: err })
  }
  const source = raw ?? Readable.fromWeb(request.body as unknown as NodeWebStream<Uint8Array>)
  const fields: Record<string, string> = {}
  const pending: Promise<{ field: string; result: T }>[] = []
  let failure: unknown

  const fail = (err: unknown) => {
    failure ??= err
    source.unpipe(parser)
    if (raw) {
      // The server's own request: destroying it would cut the connection before the error
      // answer is written. It stays paused; the server drains or closes it after answering,
      // as it does for a web stream that was given up on.
      raw.pause()
    } else {
      source.destroy()
    }
    // Busboy closes only once every file part has ended; a part whose consumer gave up, or
    // whose body stopped arriving, never ends. Destroying the parser closes it and fails the
    // part, so a put still waiting for bytes gives up (and removes its temp file) too.
    parser.destroy()
  }

  await new Promise<void>((resolve) => {
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        fail(new InvalidRequestError(`Field ${name} is too long`, { param: name }))
        return
      }
      fields[name] = value
    })
    parser.on('file', (name, stream, info) => {
      // A part failed by `fail` errors; its consumer sees that through its own read, and a
      // part nobody reads any more must not turn it into an uncaught exception.
      stream.on('error', () => {})
      if (!options.fileFields.includes(name)) {
        stream.resume()
        fail(new InvalidRequestError(`Unexpected file field '${name}'`, { param: name }))
        return
      }
      const stored = options.onFile({ field: name, filename: info.filename, stream }).then(
        (result) => ({ field: name, result }),
        (err: unknown) => {
          stream.resume()
          fail(err)
          throw err
        },
      )
      stored.catch(() => undefined)
      pending.push(stored)
    })
    parser.on('filesLimit', () =>
      fail(new InvalidRequestError(`At most ${options.maxFiles} file(s) per request`)),
    )
    parser.on('error', (err) => {
      fail(new InvalidRequestError('Malformed multipart/form-data body', { cause: err }))
      resolve()
    })
    parser.on('close', () => resolve())
    source.on('error', (err) => {
      fail(err)
      resolve()
    })
    source.on('close', () => {
      if (failure) {
        resolve()
      }
    })
    source.pipe(parser)
  })

  const settled = await Promise.allSettled(pending)
  if (failure) {
    throw failure
  }
  const files: { field: string; result: T }[] = []
  for (const outcome of settled) {
    if (outcome.status === 'rejected') {
      throw outcome.reason
    }
    files.push(outcome.value)
  }
  return { fields, files }
}

/** A declared Content-Length over the limit is refused before a byte of the body is read. */
export function assertDeclaredLength(request: Request, maxBytes: number) {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) {
    throw new PayloadTooLargeError(maxBytes)
  }
}
