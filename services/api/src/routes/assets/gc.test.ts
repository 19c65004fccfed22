import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { AssetSchema } from '../../schemas/asset.ts'
import {
  type AssetTestApp,
  blobPathIn,
  createAssetTestApp,
  noisePng,
  placeFile,
  sha256Hex,
} from '../../testing/assets.ts'

let t: AssetTestApp
afterEach(async () => {
  await t.close()
})

const HOUR_MS = 60 * 60 * 1000

async function uploadAndDelete(app: AssetTestApp, seed: string) {
  const asset = AssetSchema.parse(await (await app.upload(await noisePng(seed, 16))).json())
  expect((await app.app.request(`/v1/assets/${asset.id}`, { method: 'DELETE' })).status).toBe(204)
  return asset
}

describe('blob GC after DELETE', () => {
  it('keeps an unreferenced blob through the grace period, then collects it', async () => {
    const clock = manualClock(Date.now())
    t = await createAssetTestApp({ clock })
    const asset = await uploadAndDelete(t, 'deleted')
    const blobPath = blobPathIn(t.blobRoot, asset.contentHash)
    expect((await t.deps.assets.collectGarbage(HOUR_MS)).deleted).toEqual([])
    expect(t.files().blobs).toEqual([blobPath])
    clock.advance(HOUR_MS + 1)
    expect((await t.deps.assets.collectGarbage(HOUR_MS)).deleted).toEqual([asset.contentHash])
    expect(t.files().blobs).toEqual([])
  })

  it('collects with grace 0 but never a blob another asset still references', async () => {
    const clock = manualClock(Date.now())
    t = await createAssetTestApp({ clock })
    const kept = AssetSchema.parse(await (await t.upload(await noisePng('kept', 16))).json())
    const gone = await uploadAndDelete(t, 'gone')
    clock.advance(1)
    const result = await t.deps.assets.collectGarbage(0)
    expect(result).toEqual({ scanned: 2, deleted: [gone.contentHash] })
    expect(t.files().blobs).toEqual([blobPathIn(t.blobRoot, kept.contentHash)])
    expect((await t.app.request(`/v1/assets/${kept.id}/content`)).status).toBe(200)
  })

  it('C11: never collects the blob an upload stored but has not yet recorded', async () => {
    const clock = manualClock(Date.now())
    const bytes = await noisePng('in flight', 16)
    let collectedInWindow: string[] | undefined
    t = await createAssetTestApp({
      clock,
      // Runs after the blob is durable and before its row is committed, the riskiest moment.
      afterPut: async () => {
        clock.advance(HOUR_MS)
        collectedInWindow = (await t.deps.assets.collectGarbage(0)).deleted
      },
    })
    const res = await t.upload(bytes)
    expect(res.status).toBe(201)
    expect(collectedInWindow).toEqual([])
    const asset = AssetSchema.parse(await res.json())
    const content = await t.app.request(`/v1/assets/${asset.id}/content`)
    expect(Buffer.from(await content.arrayBuffer())).toEqual(bytes)
  })

  it('C11: a re-upload of deleted bytes revives the blob instead of racing GC', async () => {
    const clock = manualClock(Date.now())
    let collectedInWindow: string[] | undefined
    let armed = false
    t = await createAssetTestApp({
      clock,
      afterPut: async () => {
        if (armed) {
          clock.advance(HOUR_MS)
          collectedInWindow = (await t.deps.assets.collectGarbage(0)).deleted
        }
      },
    })
    const deleted = await uploadAndDelete(t, 'revived')
    armed = true
    const res = await t.upload(await noisePng('revived', 16))
    expect(res.status).toBe(201)
    expect(collectedInWindow).toEqual([])
    expect(t.files().blobs).toEqual([blobPathIn(t.blobRoot, deleted.contentHash)])
  })
})

describe('C12: start-up maintenance', () => {
  it('sweeps temp files left by a crash and collects orphan blobs, keeping referenced ones', async () => {
    const clock = manualClock(Date.now())
    t = await createAssetTestApp({
      clock,
      env: { IMAGEGATE_GC_GRACE_MS: '0', IMAGEGATE_GC_INTERVAL_MS: '0' },
    })
    const kept = AssetSchema.parse(await (await t.upload(await noisePng('kept', 16))).json())
    const orphanBytes = await noisePng('orphan', 16)
    const orphan = await t.deps.blobs.put(new Blob([new Uint8Array(orphanBytes)]).stream(), {
      maxBytes: 1 << 20,
    })
    const crashedAt = new Date(clock.ms() - 60_000)
    placeFile(path.join(t.blobRoot, 'tmp', 'crashed-1.part'), 'half an upload', crashedAt)
    placeFile(path.join(t.blobRoot, 'tmp', 'crashed-2.part'), '', crashedAt)
    clock.advance(1)
    await t.deps.startMaintenance()
    expect(t.files()).toEqual({
      blobs: [blobPathIn(t.blobRoot, kept.contentHash)],
      temp: [],
      quarantine: [],
    })
    expect(orphan.sha256).toBe(sha256Hex(orphanBytes))
    expect(t.logLines).toContainEqual(expect.objectContaining({ swept: 2 }))
  })

  it('runs GC again on its timer', async () => {
    t = await createAssetTestApp({
      env: { IMAGEGATE_GC_GRACE_MS: '0', IMAGEGATE_GC_INTERVAL_MS: '20' },
    })
    await t.deps.startMaintenance()
    const asset = await uploadAndDelete(t, 'timer')
    expect(t.files().blobs).toEqual([blobPathIn(t.blobRoot, asset.contentHash)])
    await vi.waitFor(() => expect(t.files().blobs).toEqual([]), { timeout: 2000, interval: 20 })
  })
})
