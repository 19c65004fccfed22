/**
 * Errors of the blob store. Plain classes with the facts a caller needs; the API maps them to
 * its error table in one place (digest_mismatch, payload_too_large, invalid_digest,
 * internal_error, range_not_satisfiable), so nothing here knows about HTTP.
 */
export class StorageError extends Error {
  override name = 'StorageError'
}

/** A digest that is not 64 lowercase hex characters. The value is not echoed: it is untrusted. */
export class InvalidHashError extends StorageError {
  override name = 'InvalidHashError'
  constructor() {
    super('A sha256 digest must be 64 lowercase hexadecimal characters')
  }
}

/** The bytes received do not hash to the digest the client declared. */
export class DigestMismatchError extends StorageError {
  override name = 'DigestMismatchError'
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`Expected sha256 ${expected}, the received bytes hash to ${actual}`)
  }
}

/** The source yielded more than `limitBytes`; reading stopped at that point. */
export class BlobTooLargeError extends StorageError {
  override name = 'BlobTooLargeError'
  constructor(readonly limitBytes: number) {
    super(`The content exceeds the limit of ${limitBytes} bytes`)
  }
}

/**
 * A stored blob no longer hashes to its name. It has been moved out of the store (when it was
 * still the same file), so the next upload of the same bytes re-creates it.
 */
export class BlobCorruptError extends StorageError {
  override name = 'BlobCorruptError'
  constructor(
    readonly sha256: string,
    readonly actualSha256: string,
    readonly quarantinedTo: string | undefined,
  ) {
    super(`Blob ${sha256} failed verification`)
  }
}

export class BlobNotFoundError extends StorageError {
  override name = 'BlobNotFoundError'
  constructor(readonly sha256: string) {
    super(`Blob ${sha256} is not in the store`)
  }
}

/** The requested byte range starts at or beyond the end of the blob. */
export class RangeNotSatisfiableError extends StorageError {
  override name = 'RangeNotSatisfiableError'
  constructor(readonly sizeBytes: number) {
    super(`The requested range is outside the blob's ${sizeBytes} bytes`)
  }
}

/**
 * The store could not be reached, or did not answer before its deadline: nothing is known
 * about the blob, and nothing was written. The API answers 503 upstream_unavailable.
 */
export class BlobStoreUnavailableError extends StorageError {
  override name = 'BlobStoreUnavailableError'
  constructor(options: { cause: unknown }) {
    super('The blob store is unavailable', options)
  }
}
