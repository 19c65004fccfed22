import { createHash } from 'node:crypto'
import type { Context } from 'hono'
import { canonicalJson } from '../access/fingerprint.ts'
import { PayloadTooLargeError } from '../errors/app-error.ts'
import type { AppEnv } from './env.ts'
import { assertDeclaredLength, nodeRequestBody, readMultipart } from './multipart.ts'

/** The file fields of POST /v1/images/edits (OpenAI's names; `image[]` is how SDKs send several). */
export const EDIT_FILE_FIELDS = ['image', 'image[]', 'mask']

/** OpenAI's GPT Image limit: 16 images, plus the mask. */
export const MAX_EDIT_FILES = 17

export type EditFormFile = {
  field: string
  filename: string | undefined
  bytes: Uint8Array
  sha256: string
}

export type EditForm = {
  fields: Record<string, string>
  /** In the order they came. */
  files: EditFormFile[]
  /**
   * sha256 of the fields and of each file's digest, in order: the same for the same request
   * however it was encoded (multipart boundaries are random, so a client's retry of one call
   * sends other bytes). The Idempotency-Key fingerprint of an edit.
   */
  digest: string
}

const forms = new WeakMap<Request, Promise<EditForm>>()

/**
 * The edit request's multipart body, read once per request, whoever asks first (the idempotency
 * layer for its fingerprint, or the route). Edits are sent upstream from memory anyway, so the
 * images are buffered, bounded by `maxBytes` for the whole body: a declared Content-Length over
 * it is refused before reading, a chunked body as soon as it passes it.
 */
export function readEditForm(c: Context<AppEnv>, maxBytes: number): Promise<EditForm> {
  const request = c.req.raw
  let form = forms.get(request)
  if (!form) {
    form = readForm(c, maxBytes)
    forms.set(request, form)
  }
  return form
}

async function readForm(c: Context<AppEnv>, maxBytes: number): Promise<EditForm> {
  assertDeclaredLength(c.req.raw, maxBytes)
  let total = 0
  const body = nodeRequestBody(c)
  const { fields, files } = await readMultipart(c.req.raw, {
    fileFields: EDIT_FILE_FIELDS,
    maxFiles: MAX_EDIT_FILES,
    ...(body ? { body } : {}),
    onFile: async ({ field, filename, stream }) => {
      const chunks: Buffer[] = []
      const hash = createHash('sha256')
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        total += chunk.length
        if (total > maxBytes) {
          throw new PayloadTooLargeError(maxBytes)
        }
        hash.update(chunk)
        chunks.push(chunk)
      }
      return { field, filename, bytes: Buffer.concat(chunks), sha256: hash.digest('hex') }
    },
  })
  const parts = files.map(({ result }) => result)
  const digest = createHash('sha256')
    .update(
      canonicalJson({
        fields,
        files: parts.map((file) => [file.field, file.sha256, file.bytes.length]),
      }),
    )
    .digest('hex')
  return { fields, files: parts, digest }
}
