import type { MiddlewareHandler } from 'hono'
import { concatBytes } from '../../bytes.ts'
import { AppError } from '../../errors/app-error.ts'
import { ClientAbortError } from '../../errors/client-abort.ts'
import type { AppEnv } from '../env.ts'

const MULTIPART = /^multipart\/form-data/i
/** The methods whose routes read a body; the others' bodies are never read, so never held. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])

/**
 * The byte limit of JSON bodies: every POST, PUT or PATCH body that is not multipart (only the upload and edit
 * routes read multipart, under their own limits; no route reads any other kind) is held to
 * `maxBytes`. A declared Content-Length over it is refused before a byte is read; a chunked body
 * (or one made in process, which declares no length) is counted as it arrives and refused as soon as it passes the limit, so no more than
 * `maxBytes` of it is ever held. Runs before anything reads the body (the idempotency layer
 * fingerprints it). The rest of a refused body is drained and dropped once the answer is out
 * (@hono/node-server: up to 64 MiB or 500 ms, then the connection is closed), never buffered; an
 * immediate close would reset the connection under the client before it read its 413.
 */
export function jsonBodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!BODY_METHODS.has(c.req.method) || MULTIPART.test(c.req.header('content-type') ?? '')) {
      return next()
    }
    const declared = c.req.header('content-length')
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      // Node's parser ends a body at its Content-Length: it cannot grow past what was declared.
      if (Number(declared) > maxBytes) {
        throw tooLarge(maxBytes)
      }
      return next()
    }
    const body = c.req.raw.body
    if (body === null) {
      return next()
    }
    const bytes = await readAtMost(body, maxBytes)
    if (bytes === undefined) {
      throw tooLarge(maxBytes)
    }
    c.req.raw = new Request(c.req.raw, { body: bytes })
    return next()
  }
}

function tooLarge(maxBytes: number): AppError {
  // No `connection: close`: closing at once would reset the connection under a client still
  // sending, before it read this answer; the server drains the rest briefly, then closes.
  return new AppError('payload_too_large', `The JSON body exceeds the limit of ${maxBytes} bytes`)
}

/** The whole stream, or undefined as soon as it passes `maxBytes` (the rest is left unread). */
async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>
      try {
        chunk = await reader.read()
      } catch (err) {
        throw new ClientAbortError({ cause: err })
      }
      if (chunk.done) {
        break
      }
      size += chunk.value.byteLength
      if (size > maxBytes) {
        return undefined
      }
      chunks.push(chunk.value)
    }
  } finally {
    reader.releaseLock()
  }
  return concatBytes(chunks, size)
}
