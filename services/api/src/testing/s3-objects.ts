import {
  CopyObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createS3Client, isS3NotFound } from '../storage/s3-client.ts'
import { STORED_AT_METADATA } from '../storage/s3-store-context.ts'
import type { S3TestServer } from './s3-server.ts'

/** A client of the test server, for looking into the bucket behind imagegate's back. */
export function createS3TestClient(
  server: Pick<S3TestServer, 'endpoint' | 'region' | 'credentials'>,
): S3Client {
  return createS3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials,
  })
}

/** Whether the bucket holds an object under `key`. */
export async function objectExists(client: S3Client, bucket: string, key: string) {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    return true
  } catch (error) {
    if (isS3NotFound(error)) {
      return false
    }
    throw error
  }
}

/** Every key in the bucket under `prefix`, in S3's order (ListObjectsV2, page after page). */
export async function listBucketKeys(
  client: S3Client,
  bucket: string,
  prefix = '',
): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    )
    keys.push(...(page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : [])))
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return keys
}

/**
 * PUTs bytes to a bucket with the SDK configured as imagegate configures it (s3-client.ts) and
 * the headers its blob store sends: the bare loop imagegate's uploads to S3 are compared with.
 * `head` and `refresh` are the store's other calls on a blob (a HEAD, a copy onto itself with
 * fresh metadata), bare, for the floors bench/scale-trace.ts measures.
 */
export function createBarePutter(
  server: Pick<S3TestServer, 'endpoint' | 'region' | 'bucket' | 'credentials'>,
) {
  const client = createS3TestClient(server)
  return {
    async put(key: string, bytes: Uint8Array): Promise<void> {
      await client.send(
        new PutObjectCommand({
          Bucket: server.bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.byteLength,
          ContentType: 'application/octet-stream',
          Metadata: { [STORED_AT_METADATA]: new Date().toISOString() },
        }),
      )
    },
    /** Answers false for a key that is not there. */
    head: (key: string) => objectExists(client, server.bucket, key),
    async refresh(key: string): Promise<void> {
      await client.send(
        new CopyObjectCommand({
          Bucket: server.bucket,
          Key: key,
          CopySource: `${server.bucket}/${key}`,
          MetadataDirective: 'REPLACE',
          ContentType: 'application/octet-stream',
          Metadata: { [STORED_AT_METADATA]: new Date().toISOString() },
        }),
      )
    },
    close: () => client.destroy(),
  }
}
