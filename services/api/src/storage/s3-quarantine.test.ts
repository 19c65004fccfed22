import { randomUUID } from 'node:crypto'
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import type { BlobPins } from './blob-pins.ts'
import type { BlobStore, GuardDelete } from './blob-store.ts'
import { BlobCorruptError } from './errors.ts'
import { createMemoryBlobPins } from './memory-blob-pins.ts'
import { createS3BlobStore } from './s3-blob-store.ts'
import { contentOf, patterned, sha256Of } from './testing/blob-store-harness.ts'
import { keysUnder, useS3TestServer } from './testing/s3-harness.ts'

const s3test = useS3TestServer()

const GOOD = patterned(3000)
const SHA256 = sha256Of(GOOD)
const MAX_BYTES = 1 << 20

type Command = { constructor: { name: string }; input: { Key?: string } }

/**
 * Two instances on one bucket and prefix, sharing one set of pins (as PostgreSQL's are shared).
 * Instance B's client runs `beforeB` ahead of the first of its commands that `matches`: the
 * moment a put on instance A lands in the middle of B's quarantine.
 */
function twoInstances(matches: (command: Command) => boolean) {
  const prefix = `run-${randomUUID().slice(0, 8)}/`
  const blobKey = `${prefix}sha256/${SHA256}`
  let beforeB: (() => Promise<void>) | undefined
  const interceptingClient = {
    async send(command: Command, options?: unknown) {
      const hook = beforeB
      if (hook !== undefined && matches(command)) {
        beforeB = undefined
        await hook()
      }
      return s3test.client.send(command as never, options as never)
    },
  } as unknown as S3Client
  const pins = createMemoryBlobPins()
  const open = (s3: S3Client) =>
    createS3BlobStore({
      client: s3,
      bucket: s3test.server.bucket,
      prefix,
      streamThresholdBytes: 1 << 20,
      // Puts look before they write, so one that writes over a corrupt object can say so.
      lookBeforePutBytes: 0,
    })
  return {
    a: open(s3test.client),
    b: open(interceptingClient),
    pins,
    blobKey,
    prefix,
    setBeforeB(hook: () => Promise<void>) {
      beforeB = hook
    },
    /** Bytes that are not SHA256's content, and not its size either: a corrupt object. */
    storeCorrupt: () =>
      s3test.client.send(
        new PutObjectCommand({ Bucket: s3test.server.bucket, Key: blobKey, Body: patterned(1000) }),
      ),
  }
}

/** An upload as the asset service runs it: the digest pinned before the put, released after. */
async function upload(store: BlobStore, pins: BlobPins, onPinned: () => void) {
  const release = await pins.pin(SHA256)
  onPinned()
  try {
    return await store.putBytes(GOOD, { maxBytes: MAX_BYTES, expectedSha256: SHA256 })
  } finally {
    await release()
  }
}

const turns = async (count: number) => {
  for (let turn = 0; turn < count; turn += 1) {
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('quarantine on S3 with another instance putting the same digest', () => {
  it('does not delete good bytes an upload on another instance stored under the key meanwhile', async () => {
    const { a, b, pins, blobKey, prefix, setBeforeB, storeCorrupt } = twoInstances(
      (command) =>
        command.constructor.name === DeleteObjectCommand.name && command.input.Key === blobKey,
    )
    await storeCorrupt()
    let uploaded: Promise<unknown> | undefined
    setBeforeB(async () => {
      // Right before B deletes the key, A uploads the same digest. If its pin is let through
      // it would put now, so B waits for it; if the pin waits for B, so must the upload.
      let pinned = false
      uploaded = upload(a, pins, () => {
        pinned = true
      })
      await turns(5)
      if (pinned) {
        await uploaded
      }
    })
    // As the asset service reads content: the quarantine runs under the shared pins' guard.
    const guardDelete: GuardDelete = (sha256, work) => pins.unlessPinned(sha256, work)
    await expect(b.openVerified(SHA256, { guardDelete })).rejects.toBeInstanceOf(BlobCorruptError)
    expect(uploaded).toBeDefined()
    await uploaded
    expect(await contentOf(await a.openVerified(SHA256))).toEqual(GOOD)
    expect(await contentOf(await b.openVerified(SHA256, { rehash: true }))).toEqual(GOOD)
    const quarantined = (await keysUnder(s3test.client, s3test.server.bucket, prefix)).filter(
      (key) => key.startsWith('quarantine/'),
    )
    expect(quarantined).toHaveLength(1)
  })

  it('leaves a version written after the corrupt one it set out to move, even unguarded', async () => {
    const { a, b, blobKey, prefix, setBeforeB, storeCorrupt } = twoInstances(
      (command) =>
        command.constructor.name === 'CopyObjectCommand' &&
        command.input.Key?.startsWith(`${prefix}quarantine/`) === true,
    )
    await storeCorrupt()
    let put: Awaited<ReturnType<BlobStore['putBytes']>> | undefined
    setBeforeB(async () => {
      // A put that pins only after it stored (a generated image) writes over the corrupt
      // object while B is copying it aside.
      put = await a.putBytes(GOOD, { maxBytes: MAX_BYTES })
    })
    await expect(b.openVerified(SHA256)).rejects.toBeInstanceOf(BlobCorruptError)
    expect(await keysUnder(s3test.client, s3test.server.bucket, blobKey)).toEqual([''])
    expect(await contentOf(await b.openVerified(SHA256, { rehash: true }))).toEqual(GOOD)
    // The put says it wrote over other bytes, so a caller that pins after it looks again.
    expect(put).toMatchObject({ created: true, replaced: true })
  })
})
