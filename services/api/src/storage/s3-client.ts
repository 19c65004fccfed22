import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { StorageError } from './errors.ts'

export type S3ConnectionOptions = {
  /** Unset: the AWS SDK's chain (AWS_REGION, the profile's region). */
  region?: string | undefined
  /** For anything but AWS itself (MinIO, Ceph RGW, Cloudflare R2, …): the service URL. */
  endpoint?: string | undefined
  /** `https://host/bucket/key` instead of `https://bucket.host/key`; most non-AWS stores need it. */
  forcePathStyle?: boolean
  /** Default: the AWS SDK's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, roles…). */
  credentials?: S3ClientConfig['credentials']
  /** Attempts per request, the first included (the SDK's standard retry mode). Default 3. */
  maxAttempts?: number
  /** How long to wait for a TCP connection. Default 3 s. */
  connectionTimeoutMs?: number
  /** How long an attempt may sit without a byte moving before it fails. Default 15 s. */
  idleTimeoutMs?: number
}

/**
 * An S3 client configured so that third-party stores work as well as AWS: checksums are
 * computed and validated only when an operation requires them (newer SDKs add CRC32 trailers
 * to every upload by default, which several S3-compatible stores reject or mishandle), and path
 * style on request. Integrity does not rest on transport checksums anyway: the store hashes
 * every blob before it names it, and again before it serves it.
 *
 * A store that stops answering fails an attempt once no byte moved for `idleTimeoutMs` (the
 * socket timeout, which also covers response bodies); the whole of an operation, retries
 * included, is bounded by the blob store's deadline on top (s3-store-context.ts).
 */
export function createS3Client(options: S3ConnectionOptions): S3Client {
  return new S3Client({
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      socketTimeout: options.idleTimeoutMs ?? 15_000,
    },
  })
}

/** The HTTP status an S3 call failed with, when it got that far. */
export function s3StatusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
  return metadata?.httpStatusCode
}

export function isS3NotFound(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name
  return s3StatusOf(error) === 404 || name === 'NoSuchKey' || name === 'NotFound'
}

/** What a connection that failed, was refused or was cut reports. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
])

/**
 * True when an S3 call failed because the store could not be reached or did not answer in
 * time (network errors, timeouts, the deadline's abort, 5xx answers), as opposed to an answer
 * about the request (4xx) or a fault of imagegate's own.
 */
export function isS3Unavailable(error: unknown): boolean {
  if (error instanceof StorageError || typeof error !== 'object' || error === null) {
    return false
  }
  const status = s3StatusOf(error)
  if (status !== undefined) {
    return status >= 500
  }
  const { name, code, $metadata } = error as { name?: string; code?: string; $metadata?: unknown }
  return (
    // The SDK attaches $metadata (attempts, no status) to a call that got no answer at all.
    $metadata !== undefined ||
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    (code !== undefined && NETWORK_ERROR_CODES.has(code))
  )
}

/**
 * Why a call about a bucket failed, in words an operator can act on. A HEAD answer has no
 * body, so the SDK's own message for it is a bare "UnknownError"; the status says more.
 */
export function explainS3Failure(error: unknown, bucket: string): string {
  const status = s3StatusOf(error)
  const message = error instanceof Error ? error.message : String(error)
  switch (status) {
    case undefined:
      return `cannot be reached: ${message || (error as Error).name}`
    case 301:
      return 'is in another region than the one configured (IMAGEGATE_S3_REGION)'
    case 403:
      return `refused access to bucket "${bucket}": check the credentials (AWS_ACCESS_KEY_ID …) and the bucket's policy`
    case 404:
      return `has no bucket "${bucket}"`
    default:
      return `answered HTTP ${status} for bucket "${bucket}"`
  }
}
