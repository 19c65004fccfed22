import { createHash } from 'node:crypto'
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3'
import { assertSha256Hex } from './blob-hash.ts'
import {
  type GuardDelete,
  type OpenOptions,
  runUnguarded,
  type VerifiedBlob,
} from './blob-store.ts'
import { resolveRange } from './byte-range.ts'
import { BlobCorruptError, BlobNotFoundError } from './errors.ts'
import { streamRange } from './file-range.ts'
import { isS3NotFound, s3StatusOf } from './s3-client.ts'
import { quarantineObject } from './s3-quarantine.ts'
import { type S3StoreContext, send } from './s3-store-context.ts'
import { spoolSource } from './spool.ts'

type Body = NonNullable<GetObjectCommandOutput['Body']>

async function getObject(
  context: S3StoreContext,
  sha256: string,
  extra: { Range?: string; IfMatch?: string } = {},
): Promise<GetObjectCommandOutput & { Body: Body }> {
  try {
    const response = await send(context, (options) =>
      context.client.send(
        new GetObjectCommand({
          Bucket: context.keys.bucket,
          Key: context.keys.blobKey(sha256),
          ...extra,
        }),
        options,
      ),
    )
    if (response.Body === undefined) {
      throw new Error(`The object store sent no body for blob ${sha256}`)
    }
    return response as GetObjectCommandOutput & { Body: Body }
  } catch (error) {
    if (isS3NotFound(error)) {
      context.verified.forget(sha256)
      throw new BlobNotFoundError(sha256)
    }
    throw error
  }
}

/** Lets go of a response body that will not be read, so its connection is freed. */
async function discard(body: Body): Promise<void> {
  await body
    .transformToWebStream()
    .cancel()
    .catch(() => {})
}

/**
 * Moves the corrupt version aside (s3-quarantine.ts), inside `guardDelete` and outside the
 * digest's lock, as GC's deletes. When the guard finds the digest pinned, the object stays
 * where it is for now (a later read moves it): it is refused either way.
 */
async function rejectCorrupt(
  context: S3StoreContext,
  sha256: string,
  actualSha256: string,
  etag: string,
  guardDelete: GuardDelete = runUnguarded,
): Promise<never> {
  context.verified.forget(sha256)
  const quarantinedTo = await guardDelete(sha256, () =>
    context.withLock(sha256, () => quarantineObject(context, sha256, { onlyIfEtag: etag })),
  )
  throw new BlobCorruptError(sha256, actualSha256, quarantinedTo)
}

/**
 * A read of an object version verified earlier (same ETag): only the requested part is
 * fetched. `If-Match` asks the server for exactly that version; the ETag of the answer is
 * checked as well, since some servers (s3rver) ignore `If-Match`. Undefined when the version
 * changed or came back short: the caller then verifies it afresh.
 */
async function readVerifiedVersion(
  context: S3StoreContext,
  sha256: string,
  options: OpenOptions,
): Promise<VerifiedBlob | undefined> {
  const known = context.verified.get(sha256)
  if (known === undefined || known.sizeBytes === 0) {
    return undefined
  }
  const { offset, length } = resolveRange(options.range, known.sizeBytes)
  let response: GetObjectCommandOutput & { Body: Body }
  try {
    response = await getObject(context, sha256, {
      Range: `bytes=${offset}-${offset + length - 1}`,
      IfMatch: known.etag,
    })
  } catch (error) {
    if (s3StatusOf(error) === 412) {
      context.verified.forget(sha256)
      return undefined
    }
    throw error
  }
  if (response.ETag !== known.etag || response.ContentLength !== length) {
    context.verified.forget(sha256)
    await discard(response.Body)
    return undefined
  }
  const facts = { sha256, sizeBytes: known.sizeBytes, offset, length }
  if (length <= context.streamThresholdBytes) {
    const bytes = await response.Body.transformToByteArray()
    return bytes.byteLength === length ? { ...facts, kind: 'bytes', bytes } : undefined
  }
  return { ...facts, kind: 'stream', stream: response.Body.transformToWebStream() }
}

/**
 * Downloads the whole object and hashes it before anything is handed out. A small blob is
 * hashed in memory; a large one is spooled to a nameless local temp file while it is hashed,
 * and the stream handed out reads that file, so what was verified is exactly what is served,
 * and the object is downloaded once. A mismatch quarantines that object version (rejectCorrupt).
 */
async function readAndVerify(
  context: S3StoreContext,
  sha256: string,
  options: OpenOptions,
): Promise<VerifiedBlob> {
  const response = await getObject(context, sha256)
  const sizeBytes = response.ContentLength ?? 0
  const etag = response.ETag ?? ''
  let range: { offset: number; length: number }
  try {
    range = resolveRange(options.range, sizeBytes)
  } catch (error) {
    await discard(response.Body)
    throw error
  }
  const facts = { sha256, sizeBytes, ...range }
  if (sizeBytes <= context.streamThresholdBytes) {
    const whole = await response.Body.transformToByteArray()
    const actual = createHash('sha256').update(whole).digest('hex')
    if (actual !== sha256 || whole.byteLength !== sizeBytes) {
      return rejectCorrupt(context, sha256, actual, etag, options.guardDelete)
    }
    context.verified.set(sha256, etag, sizeBytes)
    const bytes = whole.subarray(range.offset, range.offset + range.length)
    return { ...facts, kind: 'bytes', bytes }
  }
  const spooled = await spoolSource(response.Body.transformToWebStream(), {
    maxBytes: sizeBytes,
    memoryBytes: 0,
    directory: context.spoolDir,
  })
  if (spooled.sha256 !== sha256 || spooled.sizeBytes !== sizeBytes) {
    await spooled.close()
    return rejectCorrupt(context, sha256, spooled.sha256, etag, options.guardDelete)
  }
  context.verified.set(sha256, etag, sizeBytes)
  if (spooled.body.kind !== 'file') {
    throw new Error('A spool with no memory budget is always a file')
  }
  return {
    ...facts,
    kind: 'stream',
    stream: streamRange(spooled.body.handle, range.offset, range.length),
  }
}

/**
 * Returns a blob's content (or a range of it) only once the whole object was proven to hash to
 * its name: just now, or earlier for the very same object version (see verified-etags.ts).
 * `rehash` forces the full download and hash.
 */
export async function openVerifiedS3Blob(
  context: S3StoreContext,
  sha256: string,
  options: OpenOptions = {},
): Promise<VerifiedBlob> {
  assertSha256Hex(sha256)
  if (options.rehash !== true) {
    const known = await readVerifiedVersion(context, sha256, options)
    if (known !== undefined) {
      return known
    }
  }
  return readAndVerify(context, sha256, options)
}
