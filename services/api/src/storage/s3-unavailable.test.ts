import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startS3TestServer } from '../testing/s3-server.ts'
import type { BlobStore } from './blob-store.ts'
import { singleChunk } from './byte-source.ts'
import { BlobStoreUnavailableError } from './errors.ts'
import { createS3BlobStore } from './s3-blob-store.ts'
import { createS3Client, isS3Unavailable } from './s3-client.ts'
import { patterned, sha256Of } from './testing/blob-store-harness.ts'

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

function storeAt(endpoint: string, bucket: string, deadlineMs = 30_000): BlobStore {
  const client = createS3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
  })
  cleanups.push(() => client.destroy())
  return createS3BlobStore({ client, bucket, prefix: 'outage/', deadlineMs })
}

/** Every operation a request can reach, each expected to fail as unavailable. */
async function expectEveryOperationUnavailable(store: BlobStore, sha256: string) {
  const bytes = patterned(100)
  const operations: [string, () => Promise<unknown>][] = [
    ['put', () => store.put(singleChunk(bytes), { maxBytes: 1000 })],
    ['putBytes', () => store.putBytes(bytes, { maxBytes: 1000 })],
    ['openVerified', () => store.openVerified(sha256)],
    ['stat', () => store.stat(sha256)],
    ['delete', () => store.delete(sha256)],
    ['collectGarbage', () => store.collectGarbage({ graceMs: 0, isReferenced: () => false })],
  ]
  for (const [name, operation] of operations) {
    const error = await operation().then(
      () => new Error(`${name} succeeded`),
      (err: unknown) => err,
    )
    expect(error, name).toBeInstanceOf(BlobStoreUnavailableError)
  }
}

describe('an S3 store that cannot be reached', () => {
  it('fails every operation with BlobStoreUnavailableError, and recovers with the store', async () => {
    const server = await startS3TestServer()
    cleanups.push(() => server.stop())
    const store = storeAt(server.endpoint, server.bucket)
    const stored = await store.putBytes(patterned(100), { maxBytes: 1000 })
    await store.probe()

    // The same port, no one listening: connections are refused.
    await server.stop()
    await expectEveryOperationUnavailable(store, stored.sha256)
    await expect(store.probe()).rejects.toThrow(/^The object store cannot be reached: /)

    const again = await startS3TestServer()
    cleanups.push(() => again.stop())
    const recovered = storeAt(again.endpoint, again.bucket)
    await recovered.probe()
    expect((await recovered.putBytes(patterned(100), { maxBytes: 1000 })).sha256).toBe(
      stored.sha256,
    )
  })

  it('explains a missing bucket', async () => {
    const server = await startS3TestServer()
    cleanups.push(() => server.stop())
    const store = storeAt(server.endpoint, 'no-such-bucket')
    await expect(store.probe()).rejects.toThrow('The object store has no bucket "no-such-bucket"')
  })
})

describe('an S3 store that accepts connections and never answers', () => {
  it('fails each operation at its deadline instead of hanging', async () => {
    const sockets = new Set<Socket>()
    const silent: Server = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) {
            socket.destroy()
          }
          silent.close(() => resolve())
        }),
    )
    const address = silent.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const store = storeAt(`http://127.0.0.1:${port}`, 'silent-bucket', 300)

    const started = performance.now()
    await expectEveryOperationUnavailable(store, sha256Of(patterned(100)))
    // Six operations, each bounded by its 300 ms deadline (GC lists, then stops).
    expect(performance.now() - started).toBeLessThan(6 * 300 + 1500)
    await expect(store.probe()).rejects.toThrow(/^The object store cannot be reached: /)
  })
})

describe('isS3Unavailable', () => {
  it('tells a store that is down from an answer about the request', () => {
    const sdkError = (status: number | undefined, name = 'S3ServiceException') =>
      Object.assign(new Error('x'), {
        name,
        $metadata: status === undefined ? {} : { httpStatusCode: status },
      })
    expect(isS3Unavailable(sdkError(undefined))).toBe(true)
    expect(isS3Unavailable(sdkError(503, 'SlowDown'))).toBe(true)
    expect(isS3Unavailable(sdkError(500))).toBe(true)
    expect(isS3Unavailable(sdkError(404, 'NoSuchKey'))).toBe(false)
    expect(isS3Unavailable(sdkError(403, 'AccessDenied'))).toBe(false)
    expect(isS3Unavailable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    )
    expect(isS3Unavailable(Object.assign(new Error('late'), { name: 'TimeoutError' }))).toBe(true)
    expect(isS3Unavailable(new TypeError('a bug'))).toBe(false)
    expect(isS3Unavailable(Object.assign(new Error('disk'), { code: 'ENOSPC' }))).toBe(false)
  })
})
