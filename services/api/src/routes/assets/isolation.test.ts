import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { type Asset, AssetSchema } from '../../schemas/asset.ts'
import {
  type AssetTestApp,
  blobPathIn,
  createAssetTestApp,
  fileFacts,
  noisePng,
  placeFile,
  storeFiles,
} from '../../testing/assets.ts'

let t: AssetTestApp
afterEach(async () => {
  await t.close()
})

/** Stores bytes and records them as an asset of workspace `other`, straight through the layers. */
async function otherWorkspaceAsset(app: AssetTestApp, bytes: Uint8Array) {
  await app.deps.store.workspaces.createFunded(
    { id: 'other', name: 'Other', createdAt: new Date().toISOString() },
    { units: 0, reference: 'other' },
  )
  const stored = await app.deps.blobs.put(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), {
    maxBytes: 1024 * 1024,
  })
  const { asset } = await app.deps.store.assets.insertOrGet({
    id: app.deps.ids('ast'),
    workspaceId: 'other',
    kind: 'image',
    mediaType: 'image/png',
    contentHash: stored.sha256,
    sizeBytes: stored.sizeBytes,
    width: 16,
    height: 16,
    description: null,
    folderPath: '/other',
    sourceTaskId: 'task_other',
    sourceAgentImUserId: null,
    createdAt: new Date().toISOString(),
  })
  return asset
}

/** Every asset route that takes an id, with the variants that could short-cut a lookup. */
const idRoutes = (id: string, contentHash = '0'.repeat(64)): [string, string, RequestInit][] => [
  ['GET', `/v1/assets/${id}`, {}],
  ['DELETE', `/v1/assets/${id}`, {}],
  ['GET', `/v1/assets/${id}/content`, {}],
  ['HEAD', `/v1/assets/${id}/content`, {}],
  ['GET', `/v1/assets/${id}/content`, { headers: { range: 'bytes=0-9' } }],
  ['GET', `/v1/assets/${id}/content`, { headers: { 'if-none-match': `"${contentHash}"` } }],
]

describe('S1: another workspace’s ids are 404 on every asset route', () => {
  it('answers 404, never 403, 304 or 200, and leaves the asset alone', async () => {
    t = await createAssetTestApp()
    const foreign = await otherWorkspaceAsset(t, await noisePng('foreign', 16))
    for (const [method, url, init] of idRoutes(foreign.id, foreign.contentHash)) {
      const res = await t.app.request(url, { ...init, method })
      expect({ method, url, init, status: res.status }).toEqual({ method, url, init, status: 404 })
    }
    const listed = await t.app.request('/v1/assets?sourceTaskId=task_other&folderPath=/other')
    expect(await listed.json()).toEqual({ data: [], nextCursor: null, hasMore: false })
    expect(await t.deps.store.assets.get('other', foreign.id)).toEqual(foreign)
  })

  it('C5: the same bytes uploaded here are a new asset on the one shared blob file', async () => {
    const clock = manualClock(Date.now())
    t = await createAssetTestApp({ clock })
    const bytes = await noisePng('shared', 16)
    const foreign = await otherWorkspaceAsset(t, bytes)
    const blobPath = blobPathIn(t.blobRoot, foreign.contentHash)
    const inode = fileFacts(blobPath).ino
    const res = await t.upload(bytes)
    expect(res.status).toBe(201)
    const mine = AssetSchema.parse(await res.json())
    expect(mine).toMatchObject({ workspaceId: 'default', contentHash: foreign.contentHash })
    expect(mine.id).not.toBe(foreign.id)
    expect(t.files().blobs).toEqual([blobPath])
    expect(fileFacts(blobPath).ino).toBe(inode)
    // Deleting this workspace's asset leaves the blob the other workspace still references.
    expect((await t.app.request(`/v1/assets/${mine.id}`, { method: 'DELETE' })).status).toBe(204)
    clock.advance(60_000)
    expect((await t.deps.assets.collectGarbage(0)).deleted).toEqual([])
    expect(t.files().blobs).toEqual([blobPath])
    await t.deps.store.assets.delete('other', foreign.id)
    expect((await t.deps.assets.collectGarbage(0)).deleted).toEqual([foreign.contentHash])
    expect(t.files().blobs).toEqual([])
  })
})

describe('C10: malformed and path-like ids never reach the file system', () => {
  async function withOneAsset(): Promise<Asset> {
    t = await createAssetTestApp()
    const asset = AssetSchema.parse(await (await t.upload(await noisePng('real', 16))).json())
    t.blobCalls.length = 0
    return asset
  }

  it('answers 404 for traversal, NUL, encoded and oversized ids without calling the store', async () => {
    const asset = await withOneAsset()
    const secret = path.join(t.config.dataDir, 'secret.txt')
    placeFile(secret, 'TOP SECRET')
    const ids = [
      '..%2F..%2Fetc%2Fpasswd',
      '..%2Fsecret.txt',
      '..%2F..%2F..%2Fsecret.txt',
      `..%2F..%2F${path.basename(t.config.dataDir)}%2Fsecret.txt`,
      encodeURIComponent(secret),
      '%2e%2e',
      '%2E%2E%2Fsecret.txt',
      '%252e%252e%252fsecret.txt',
      '..%5C..%5Csecret.txt',
      '%00',
      `${asset.id}%00`,
      `${asset.id}%2F..`,
      asset.id.toLowerCase(),
      asset.contentHash,
      `sha256%2F${asset.contentHash.slice(0, 2)}%2F${asset.contentHash.slice(2, 4)}%2F${asset.contentHash.slice(4)}`,
      'a'.repeat(5000),
    ]
    for (const id of ids) {
      for (const [method, url, init] of idRoutes(id)) {
        const res = await t.app.request(url, { ...init, method })
        expect({ id, method, url, status: res.status }).toEqual({ id, method, url, status: 404 })
        expect(await res.text()).not.toContain('TOP SECRET')
      }
    }
    expect(t.blobCalls).toEqual([])
    expect(storeFiles(t.blobRoot).blobs).toEqual([blobPathIn(t.blobRoot, asset.contentHash)])
  })

  it('property: any id that names no asset is a 404 that never calls the store', async () => {
    const asset = await withOneAsset()
    const piece = fc.oneof(
      // No raw '/': `x/../<id>` is the real asset's URL once normalised, as in any client.
      fc.constantFrom('..', '.', '%2e', '%2E', '%2f', '%2F', '%5c', '%00', '%252e', '%c0%ae'),
      fc.string({ unit: 'binary', maxLength: 40 }).map((text) =>
        // Lone surrogates cannot be percent-encoded; the UTF-8 round trip replaces them.
        encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8')),
      ),
      fc.constant(asset.id),
    )
    const id = fc
      .array(piece, { minLength: 1, maxLength: 12 })
      .map((pieces) => pieces.join(''))
      .filter((candidate) => candidate !== asset.id && candidate !== '')
    await fc.assert(
      fc.asyncProperty(id, async (candidate) => {
        t.blobCalls.length = 0
        for (const [method, url, init] of idRoutes(candidate)) {
          const res = await t.app.request(url, { ...init, method })
          expect(res.status).toBe(404)
        }
        expect(t.blobCalls).toEqual([])
      }),
      { numRuns: 200 },
    )
    const content = await t.app.request(`/v1/assets/${asset.id}/content`)
    expect(content.status).toBe(200)
  })
})
