import { isDatabaseUnavailable } from '../db/pg-errors.ts'
import { ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from '../images/errors.ts'
import {
  BlobCorruptError,
  BlobNotFoundError,
  BlobStoreUnavailableError,
  BlobTooLargeError,
  DigestMismatchError,
  InvalidHashError,
  RangeNotSatisfiableError,
} from '../storage/errors.ts'
import { fromAccessError } from './access-errors.ts'
import { AppError } from './app-error.ts'

/**
 * The object store (or the blob directory) cannot be reached: a 503 that a client may retry, since
 * nothing was stored or charged. Metadata (asset rows, generations) is still served meanwhile.
 */
export function fromBlobStoreOutage(err: unknown): AppError | undefined {
  if (!(err instanceof BlobStoreUnavailableError)) {
    return undefined
  }
  return new AppError(
    'upstream_unavailable',
    'The object store that holds asset content is unavailable; try again shortly',
    { details: { reason: 'object_store_unavailable' }, shouldRetry: true, cause: err },
  )
}

/**
 * The shared database cannot be reached (scaled out on PostgreSQL): a 503 a client may retry.
 * Whatever the request was doing stopped at a statement that did not run, and the ledger and
 * idempotency records change only in transactions, so nothing is half done.
 */
export function fromDatabaseOutage(err: unknown): AppError | undefined {
  if (!isDatabaseUnavailable(err)) {
    return undefined
  }
  return new AppError('upstream_unavailable', 'The database is unavailable; try again shortly', {
    details: { reason: 'database_unavailable' },
    shouldRetry: true,
    cause: err,
  })
}

/**
 * Domain errors (storage, image inspection, credits) translated to the error table. Part of the
 * single error mapping in handlers.ts: nothing else turns these into responses.
 */
export function fromDomainError(err: unknown): AppError | undefined {
  if (err instanceof DigestMismatchError) {
    return new AppError(
      'digest_mismatch',
      `The received bytes hash to ${err.actual}, not to the declared ${err.expected}; nothing was stored`,
      { param: 'x-content-sha256' },
    )
  }
  if (err instanceof BlobTooLargeError) {
    return new AppError('payload_too_large', err.message, { headers: { connection: 'close' } })
  }
  if (err instanceof InvalidHashError) {
    return new AppError('invalid_digest', err.message)
  }
  if (err instanceof RangeNotSatisfiableError) {
    return new AppError('range_not_satisfiable', err.message, {
      headers: { 'content-range': `bytes */${err.sizeBytes}` },
    })
  }
  if (err instanceof BlobCorruptError || err instanceof BlobNotFoundError) {
    return new AppError('internal_error', 'Internal error', { cause: err })
  }
  const outage = fromBlobStoreOutage(err) ?? fromDatabaseOutage(err)
  if (outage) {
    return outage
  }
  if (err instanceof UnsupportedImageError) {
    return new AppError('unsupported_media_type', err.message)
  }
  if (err instanceof ImageDecodeError) {
    return new AppError('unsupported_media_type', 'The file is not a decodable image')
  }
  if (err instanceof ImageTooLargeError) {
    return new AppError('payload_too_large', err.message)
  }
  return fromAccessError(err)
}
