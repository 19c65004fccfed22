import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgres, type Postgres } from '../db/pg-client.ts'
import { createPgAssetsRepository } from '../db/pg-repositories/assets.ts'
import { createPgBlobPins } from '../db/pg-repositories/blob-pins.ts'
import { createIdGenerator } from '../ids.ts'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import type { BlobPins } from '../storage/blob-pins.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { createFsBlobStore } from '../storage/fs-blob-store.ts'
import { createMemoryBlobPins } from '../storage/memory-blob-pins.ts'
import { createRecordingBlobStore } from '../testing/assets.ts'
import { deferred } from '../testing/deferred.ts'
import { noisePng, sha256Hex } from '../testing/images.ts'
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts'
import { createAssetService } from './assets.ts'

const GRACE_MS = 60 * 60 * 1000
const WORKSPACE = 'ws_pins'

/**
 * Two instances of the asset service on one PostgreSQL database and one blob directory, each
 * with its own pool, its own blob store object (its own in-process locks) and the shared pins.
 */
describe('blob GC across instances with pins shared in PostgreSQL', () => {
  let database: TestDatabase
  const opened: Postgres[] = []
  const roots: string[] = []
  const clock = manualClock(Date.now())
  /**
   * The pins' clock stands still: the tests jump `clock` by hours, which a held pin outlives
   * only by being renewed, and renewals run on real timers every 20 s.
   */
  const pinClock = manualClock(Date.now())

  beforeAll(async () => {
    database = await createTestDatabase()
    const first = await openPostgres(database.url, { maxConnections: 4 })
    opened.push(first)
    await first.pool.query(
      `INSERT INTO workspaces (id, name, created_at) VALUES ($1, $1, '2030-01-01T00:00:00.000Z')`,
      [WORKSPACE],
    )
  })
  afterAll(async () => {
    await Promise.all(opened.map((postgres) => postgres.close()))
    await database.drop()
    for (const root of roots) {
      rmSync(root, { recursive: true, force: true })
    }
  })

  async function instance(
    root: string,
    options: { blobs?: BlobStore; pins?: (shared: BlobPins) => BlobPins } = {},
  ) {
    const postgres = await openPostgres(database.url, { maxConnections: 4 })
    opened.push(postgres)
    const ids = createIdGenerator(clock)
    const shared = createPgBlobPins(postgres.pool, {
      clock: pinClock,
      ttlMs: 60_000,
      newId: () => ids('req'),
    })
    const blobs = options.blobs ?? createFsBlobStore({ root, clock })
    const pins = options.pins ? options.pins(shared) : shared
    const service = createAssetService({
      repo: createPgAssetsRepository(postgres.pool),
      blobs,
      pins,
      ids,
      clock,
      log: pino({ level: 'silent' }),
      limits: { maxUploadBytes: 1 << 20, maxPixels: 1 << 20 },
    })
    return { service, blobs, pins }
  }

  const newRoot = () => {
    const root = mkdtempSync(path.join(tmpdir(), 'imagegate-shared-pins-'))
    roots.push(root)
    return root
  }

  const upload = (service: ReturnType<typeof createAssetService>, bytes: Uint8Array) =>
    service.upload(WORKSPACE, sha256Hex(bytes), async (storeFile) => ({
      fields: { folderPath: '/pins' },
      stored: await storeFile(Readable.from([bytes])),
    }))

  it('GC on B keeps bytes an upload on A stored but has not recorded, past the grace period', async () => {
    const root = newRoot()
    const bytes = await noisePng('in flight on A', 16)
    let collectedInWindow: string[] | undefined
    const b = await instance(root)
    const recording = createRecordingBlobStore(root, {
      clock,
      afterPut: async () => {
        clock.advance(GRACE_MS + 1)
        collectedInWindow = (await b.service.collectGarbage(GRACE_MS)).deleted
      },
    })
    const a = await instance(root, { blobs: recording.store })
    const { asset } = await upload(a.service, bytes)
    expect(collectedInWindow).toEqual([])
    expect(await b.blobs.has(asset.contentHash)).toBe(true)
    const content = await b.service.openContent(await b.service.get(WORKSPACE, asset.id))
    expect(content.kind === 'bytes' && Buffer.from(content.bytes).equals(bytes)).toBe(true)
  })

  it('(without shared pins, the same GC on B deletes those bytes)', async () => {
    const root = newRoot()
    const bytes = await noisePng('unshared pins', 16)
    let collectedInWindow: string[] | undefined
    const b = await instance(root, { pins: () => createMemoryBlobPins() })
    const recording = createRecordingBlobStore(root, {
      clock,
      afterPut: async () => {
        clock.advance(GRACE_MS + 1)
        collectedInWindow = (await b.service.collectGarbage(GRACE_MS)).deleted
      },
    })
    const a = await instance(root, { blobs: recording.store })
    const { asset } = await upload(a.service, bytes)
    expect(collectedInWindow).toEqual([asset.contentHash])
    expect(await b.blobs.has(asset.contentHash)).toBe(false)
  })

  it('an upload on A while GC on B deletes the same bytes waits, then stores them again', async () => {
    const root = newRoot()
    const bytes = await noisePng('deleted, then uploaded again', 16)
    const sha256 = sha256Hex(bytes)
    const entered = deferred()
    const finish = deferred()
    const b = await instance(root, {
      pins: (shared) => ({
        ...shared,
        unlessPinned: (digest, work) =>
          shared.unlessPinned(digest, async () => {
            entered.resolve()
            await finish.promise
            return work()
          }),
      }),
    })
    const a = await instance(root)
    const first = await upload(a.service, bytes)
    await a.service.remove(WORKSPACE, first.asset.id)
    clock.advance(GRACE_MS + 1)

    const gc = b.service.collectGarbage(GRACE_MS)
    await entered.promise
    let uploaded = false
    const again = upload(a.service, bytes).then((result) => {
      uploaded = true
      return result
    })
    await sleep(300)
    expect(uploaded).toBe(false)
    expect(await b.pins.count(sha256)).toBe(0)
    finish.resolve()
    expect((await gc).deleted).toEqual([sha256])
    const { asset, created } = await again
    expect(created).toBe(true)
    expect(await b.blobs.has(sha256)).toBe(true)
    const content = await b.service.openContent(await b.service.get(WORKSPACE, asset.id))
    expect(content.sha256).toBe(sha256)
  })

  it('bytes a generation wrote over a corrupt object, deleted by a delete no pin holds back, are stored again', async () => {
    const root = newRoot()
    const bytes = await noisePng('written over a corrupt object', 16)
    const b = await instance(root)
    const inner = createFsBlobStore({ root, clock })
    let armed = true
    const overwriting: BlobStore = {
      ...inner,
      async putBytes(source, options) {
        const stored = await inner.putBytes(source, options)
        if (!armed) {
          return stored
        }
        armed = false
        // A's put found a corrupt object and wrote over it, and a delete that no pin holds
        // back took the key after A's write.
        expect(await b.blobs.delete(stored.sha256)).toBe(true)
        return { ...stored, replaced: true }
      },
    }
    const a = await instance(root, { blobs: overwriting })
    const { asset } = await a.service.ingest(WORKSPACE, bytes, { folderPath: '/generated' })
    expect(armed).toBe(false)
    expect(await b.blobs.has(asset.contentHash)).toBe(true)
    const content = await b.service.openContent(await b.service.get(WORKSPACE, asset.id))
    expect(content.sha256).toBe(asset.contentHash)
  })

  it.each([
    ['shared', true],
    ['per instance (the control: the same GC then deletes them)', false],
  ])(
    'GC on B past the grace period and bytes a generation on A found stored, pins %s',
    async (_label, shared) => {
      const root = newRoot()
      const bytes = await noisePng(`generated twice, pins ${shared}`, 16)
      const b = await instance(root, shared ? {} : { pins: () => createMemoryBlobPins() })
      let collectedInWindow: string[] | undefined
      let armed = false
      const recording = createRecordingBlobStore(root, {
        clock,
        afterPut: async () => {
          if (armed) {
            armed = false
            // Between A's refresh of the stored, unreferenced blob and A's row.
            clock.advance(GRACE_MS + 1)
            collectedInWindow = (await b.service.collectGarbage(GRACE_MS)).deleted
          }
        },
      })
      const a = await instance(root, { blobs: recording.store })
      const first = await a.service.ingest(WORKSPACE, bytes, { folderPath: '/generated' })
      await a.service.remove(WORKSPACE, first.asset.id)
      armed = true
      const { asset } = await a.service.ingest(WORKSPACE, bytes, { folderPath: '/generated' })
      expect(armed).toBe(false)
      if (!shared) {
        expect(collectedInWindow).toEqual([asset.contentHash])
        expect(await b.blobs.has(asset.contentHash)).toBe(false)
        return
      }
      expect(collectedInWindow).toEqual([])
      const content = await b.service.openContent(await b.service.get(WORKSPACE, asset.id))
      expect(content.sha256).toBe(asset.contentHash)
    },
  )
})
