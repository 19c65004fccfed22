import { utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { afterEach, describe, expect, it } from 'vitest'
import { singleChunk } from './byte-source.ts'
import { DigestMismatchError } from './errors.ts'
import { createS3Client } from './s3-client.ts'
import { SPOOL_FILE_PREFIX } from './spool.ts'
import { contentOf, GC_GRACE_MS, patterned, sha256Of } from './testing/blob-store-harness.ts'
import { describeBlobStore } from './testing/describe-blob-store.ts'
import { makeS3Harness, type S3Harness, useS3TestServer } from './testing/s3-harness.ts'

const s3test = useS3TestServer()

describeBlobStore('S3 (s3rver)', () => makeS3Harness(s3test.client, s3test.server.bucket))

describe('createS3BlobStore', () => {
  let harness: S3Harness | undefined
  const open = async (options?: Parameters<typeof makeS3Harness>[2]) => {
    harness = await makeS3Harness(s3test.client, s3test.server.bucket, options)
    return harness
  }
  afterEach(async () => {
    await harness?.dispose()
    harness = undefined
  })

  it('asks for checksums only where an operation requires them, as third-party stores need', async () => {
    expect(await s3test.client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED')
    expect(await s3test.client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED')
    expect(s3test.client.config.forcePathStyle).toBe(true)
  })

  it('keeps to its prefix: keys it did not write are neither listed nor collected', async () => {
    const { store, prefix, storedNames } = await open()
    const stray = [`${prefix}sha256/not-a-blob`, `${prefix}elsewhere/${'a'.repeat(64)}`]
    for (const key of stray) {
      await s3test.client.send(
        new PutObjectCommand({ Bucket: s3test.server.bucket, Key: key, Body: 'x' }),
      )
    }
    const stored = await store.put(singleChunk(patterned(10)), { maxBytes: 10 })
    expect(stored.path).toBe(`s3://${s3test.server.bucket}/${prefix}sha256/${stored.sha256}`)
    const listed: string[] = []
    for await (const sha256 of store.listHashes()) {
      listed.push(sha256)
    }
    expect(listed).toEqual([stored.sha256])
    const result = await store.collectGarbage({
      graceMs: 0,
      now: new Date(Date.now() + 3_600_000),
      isReferenced: () => false,
    })
    expect(result).toEqual({ scanned: 1, deleted: [stored.sha256] })
    expect(await storedNames()).toEqual([`elsewhere/${'a'.repeat(64)}`, 'sha256/not-a-blob'])
  })

  /** A client of the same server that records the name of every command it sends. */
  const recordingClient = () => {
    const commands: string[] = []
    const { server } = s3test
    const recording = createS3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: server.credentials,
    })
    recording.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(context.commandName ?? '?')
        return next(args)
      },
      { step: 'initialize' },
    )
    return { recording, commands }
  }

  it('writes a body below lookBeforePutBytes without looking: stored bytes are rewritten, young again, and a corrupt object is replaced', async () => {
    const { recording, commands } = recordingClient()
    try {
      const { store, elapse, overwrite, quarantinedNames } = await open({
        client: recording,
        lookBeforePutBytes: 1000,
      })
      const bytes = patterned(999)
      const first = await store.putBytes(bytes, { maxBytes: bytes.byteLength })
      await elapse()
      const again = await store.put(singleChunk(bytes), { maxBytes: bytes.byteLength })
      expect([first.created, again.created]).toEqual([true, true])
      expect(commands).toEqual(['PutObjectCommand', 'PutObjectCommand'])
      const collected = await store.collectGarbage({
        graceMs: GC_GRACE_MS,
        isReferenced: () => false,
      })
      expect(collected.deleted).toEqual([])

      await overwrite(first.sha256, patterned(10))
      await store.putBytes(bytes, { maxBytes: bytes.byteLength })
      expect(Buffer.compare(await contentOf(await store.openVerified(first.sha256)), bytes)).toBe(0)
      expect(await quarantinedNames()).toEqual([])
    } finally {
      recording.destroy()
    }
  })

  it('looks before it writes a body of lookBeforePutBytes or more, and refreshes stored bytes instead of sending them', async () => {
    const { recording, commands } = recordingClient()
    try {
      const { store } = await open({ client: recording, lookBeforePutBytes: 1000 })
      const bytes = patterned(1000)
      const first = await store.putBytes(bytes, { maxBytes: bytes.byteLength })
      const again = await store.putBytes(bytes, { maxBytes: bytes.byteLength })
      expect([first.created, again.created]).toEqual([true, false])
      expect(commands).toEqual([
        'HeadObjectCommand',
        'PutObjectCommand',
        'HeadObjectCommand',
        'CopyObjectCommand',
      ])
    } finally {
      recording.destroy()
    }
  })

  it('uploads a large blob in parts from a nameless spool file, and reads it back verified', async () => {
    const { store, storedNames } = await open({ partSizeBytes: 5 * 1024 * 1024 })
    const bytes = patterned(6 * 1024 * 1024 + 123)
    const stored = await store.put(
      (async function* () {
        for (let offset = 0; offset < bytes.byteLength; offset += 256 * 1024) {
          yield bytes.subarray(offset, offset + 256 * 1024)
        }
      })(),
      { maxBytes: bytes.byteLength, expectedSha256: sha256Of(bytes) },
    )
    expect(stored).toMatchObject({ sizeBytes: bytes.byteLength, created: true })
    expect(await storedNames()).toEqual([`sha256/${stored.sha256}`])
    const blob = await store.openVerified(stored.sha256, { range: { offset: 5 * 1024 * 1024 } })
    expect(blob.kind).toBe('stream')
    expect(Buffer.compare(await contentOf(blob), bytes.subarray(5 * 1024 * 1024))).toBe(0)
  })

  it('sends nothing for a spooled body whose digest does not match', async () => {
    const { store, storedNames } = await open()
    const bytes = patterned(200 * 1024)
    await expect(
      store.put(singleChunk(bytes), { maxBytes: bytes.byteLength, expectedSha256: 'a'.repeat(64) }),
    ).rejects.toBeInstanceOf(DigestMismatchError)
    expect(await storedNames()).toEqual([])
  })

  it('sweeps spool files a crash left behind, once stale, and nothing else', async () => {
    const { store, spoolDir, storedNames } = await open({ clock: { now: () => new Date() } })
    const stale = path.join(spoolDir, `${SPOOL_FILE_PREFIX}crashed`)
    const fresh = path.join(spoolDir, `${SPOOL_FILE_PREFIX}recent`)
    const unrelated = path.join(spoolDir, 'someone-elses-file')
    for (const file of [stale, fresh, unrelated]) {
      await writeFile(file, 'x')
    }
    const longAgo = new Date(Date.now() - 2 * 3_600_000)
    await utimes(stale, longAgo, longAgo)
    await utimes(unrelated, longAgo, longAgo)
    // s3rver cannot list multipart uploads: that part of the sweep finds nothing to do.
    expect(await store.sweepTempFiles(3_600_000)).toBe(1)
    expect(await storedNames()).toEqual([
      `spool/${SPOOL_FILE_PREFIX}recent`,
      'spool/someone-elses-file',
    ])
  })
})
