import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { createS3Client, isS3NotFound } from '../storage/s3-client.ts'
import type { S3TestServer } from './s3-server.ts'

/** A client of the test server, for looking into the bucket behind imagegate's back. */
export function createS3TestClient(server: S3TestServer): S3Client {
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
