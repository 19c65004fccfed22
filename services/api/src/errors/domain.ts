import { ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from '../images/errors.ts'
import {
  BlobCorruptError,
  BlobNotFoundError,
  BlobTooLargeError,
  DigestMismatchError,
  InvalidHashError,
  RangeNotSatisfiableError,
} from '../storage/errors.ts'
import { fromAccessError } from './access-errors.ts'
import { AppError } from './app-error.ts'

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
