import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'

export type S3ConnectionOptions = {
  region: string
  /** For anything but AWS itself (MinIO, Ceph RGW, Cloudflare R2, …): the service URL. */
  endpoint?: string
  /** `https://host/bucket/key` instead of `https://bucket.host/key`; most non-AWS stores need it. */
  forcePathStyle?: boolean
  /** Default: the AWS SDK's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, roles…). */
  credentials?: S3ClientConfig['credentials']
  /** Attempts per request, the first included (the SDK's standard retry mode). Default 3. */
  maxAttempts?: number
  /** How long to wait for a TCP connection. Default 5 s. */
  connectionTimeoutMs?: number
  /** How long a request may sit without a byte moving before it fails. Default 30 s. */
  requestTimeoutMs?: number
}

/**
 * An S3 client configured so that third-party stores work as well as AWS: checksums are
 * computed and validated only when an operation requires them (newer SDKs add CRC32 trailers
 * to every upload by default, which several S3-compatible stores reject or mishandle), and path
 * style on request. Integrity does not rest on transport checksums anyway: the store hashes
 * every blob before it names it, and again before it serves it.
 */
export function createS3Client(options: S3ConnectionOptions): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 5000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
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
