import { randomUUID } from 'node:crypto'
import type { S3TestServer } from '../../services/api/src/testing/s3-server.ts'

/**
 * The environment that puts a server's blobs in the test server's bucket, under a prefix of
 * its own, with the credentials in the variables the AWS SDK's standard chain reads.
 */
export function s3Env(s3: Pick<S3TestServer, 'endpoint' | 'bucket' | 'region' | 'credentials'>) {
  const prefix = `e2e-${randomUUID().slice(0, 8)}/`
  return {
    prefix,
    env: {
      IMAGEGATE_BLOB_STORE: 's3',
      IMAGEGATE_S3_BUCKET: s3.bucket,
      IMAGEGATE_S3_PREFIX: prefix,
      IMAGEGATE_S3_ENDPOINT: s3.endpoint,
      IMAGEGATE_S3_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    },
  }
}
