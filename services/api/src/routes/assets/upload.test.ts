import { afterEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { AssetSchema } from '../../schemas/asset.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import { EMPTY_SHA256 } from '../../storage/blob-hash.ts'
import {
  type AssetTestApp,
  blobPathIn,
  createAssetTestApp,
  fileFacts,
  noisePng,
  sha256Hex,
} from '../../testing/assets.ts'

let t: AssetTestApp
afterEach(async () => {
  await t.close()
})

const rowCount = async (app: AssetTestApp) =>
  (await app.deps.store.assets.list('default', {}, { limit: 1000 })).length

async function errorOf(response: Response) {
  return ErrorBodySchema.parse(await response.json()).error
}

describe('POST /v1/assets', () => {
  it('stores new bytes as a 201 asset typed and measured from the bytes, echoing the digest', async () => {
    t = await createAssetTestApp()
    const png = await noisePng('new', 24)
    const res = await t.upload(png, {
      meta: {
        kind: 'reference',
        description: 'noise',
        folderPath: '/refs/2026',
        sourceTaskId: 'task_1',
        sourceAgentImUserId: 'im_7',
      },
    })
    expect(res.status).toBe(201)
    expect(res.headers.get('x-content-sha256')).toBe(sha256Hex(png))
    const asset = AssetSchema.parse(await res.json())
    expect(asset).toMatchObject({
      workspaceId: 'default',
      kind: 'reference',
      mediaType: 'image/png',
      contentHash: sha256Hex(png),
      sizeBytes: png.byteLength,
      width: 24,
      height: 24,
      description: 'noise',
      folderPath: '/refs/2026',
      sourceTaskId: 'task_1',
      sourceAgentImUserId: 'im_7',
      uri: `imagegate://assets/${asset.id}`,
      cdnUrl: `/v1/assets/${asset.id}/content`,
    })
    expect(t.files().blobs).toEqual([blobPathIn(t.blobRoot, sha256Hex(png))])
    expect(t.files().temp).toEqual([])
  })

  it('C4: answers a re-upload with 200 and the same asset, refreshing the one blob file', async () => {
    const clock = manualClock()
    t = await createAssetTestApp({ clock })
    const png = await noisePng('again')
    const first = AssetSchema.parse(await (await t.upload(png)).json())
    const blobPath = blobPathIn(t.blobRoot, first.contentHash)
    const before = fileFacts(blobPath)
    clock.advance(60_000)
    const res = await t.upload(png, { meta: { description: 'ignored: the asset exists' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-content-sha256')).toBe(first.contentHash)
    expect(await res.json()).toEqual(first)
    const after = fileFacts(blobPath)
    expect(after.mtimeMs - before.mtimeMs).toBeCloseTo(60_000, -1)
    expect(after.ino).toBe(before.ino)
    expect(t.files().blobs).toEqual([blobPath])
    expect(await rowCount(t)).toBe(1)
  })

  it('C1: refuses bytes that do not hash to the declared digest with 422 and stores nothing', async () => {
    t = await createAssetTestApp()
    await t.upload(await noisePng('already there'))
    const before = t.files()
    const png = await noisePng('sent')
    const declared = sha256Hex(await noisePng('meant'))
    const res = await t.upload(png, { digest: declared })
    expect(res.status).toBe(422)
    const error = await errorOf(res)
    expect(error).toMatchObject({ code: 'digest_mismatch', param: 'x-content-sha256' })
    expect(error.message).toContain(sha256Hex(png))
    expect(res.headers.get('x-should-retry')).toBe('true')
    expect(await rowCount(t)).toBe(1)
    expect(t.files()).toEqual({ ...before, temp: [] })
  })

  it.each([
    ['absent', null, 'missing_digest'],
    ['empty', '', 'missing_digest'],
    ['63 hex characters', 'a'.repeat(63), 'invalid_digest'],
    ['65 hex characters', 'a'.repeat(65), 'invalid_digest'],
    ['not hex', 'g'.repeat(64), 'invalid_digest'],
    ['uppercase hex', 'A'.repeat(64), 'invalid_digest'],
    ['prefixed', `sha256:${'a'.repeat(64)}`, 'invalid_digest'],
    ['base64', Buffer.from('a'.repeat(32)).toString('base64'), 'invalid_digest'],
    ['a path', '../../../../etc/passwd', 'invalid_digest'],
  ])(
    'C2: a digest header that is %s answers 400 without touching the disk',
    async (_, digest, code) => {
      t = await createAssetTestApp()
      const res = await t.upload(await noisePng('c2'), { digest })
      expect(res.status).toBe(400)
      expect(await errorOf(res)).toMatchObject({ code, param: 'x-content-sha256' })
      expect(t.blobCalls).toEqual([])
      expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
    },
  )

  it('C2: uppercase hex is refused, not normalised, even when it names the right bytes', async () => {
    t = await createAssetTestApp()
    const png = await noisePng('upper')
    const res = await t.upload(png, { digest: sha256Hex(png).toUpperCase() })
    expect(res.status).toBe(400)
    expect((await errorOf(res)).code).toBe('invalid_digest')
  })

  it('C6: 50 concurrent uploads of the same bytes make one asset, one blob and no error', async () => {
    t = await createAssetTestApp()
    const png = await noisePng('herd', 64)
    const responses = await Promise.all(Array.from({ length: 50 }, () => t.upload(png)))
    const statuses = responses.map((res) => res.status)
    expect(statuses.filter((status) => status === 201)).toHaveLength(1)
    expect(statuses.filter((status) => status === 200)).toHaveLength(49)
    const ids = new Set(
      await Promise.all(responses.map(async (res) => AssetSchema.parse(await res.json()).id)),
    )
    expect(ids.size).toBe(1)
    expect(t.files()).toEqual({
      blobs: [blobPathIn(t.blobRoot, sha256Hex(png))],
      temp: [],
      quarantine: [],
    })
    expect(await rowCount(t)).toBe(1)
    expect(t.logLines.filter((line) => Number(line.level) >= 40)).toEqual([])
  })

  it('C9: an empty file is not an image: 415, and the empty blob does not stay', async () => {
    t = await createAssetTestApp()
    const res = await t.upload(new Uint8Array(0), { digest: EMPTY_SHA256 })
    expect(res.status).toBe(415)
    expect((await errorOf(res)).code).toBe('unsupported_media_type')
    expect(await rowCount(t)).toBe(0)
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
  })

  it('C9: an empty file declared as other bytes is a digest mismatch', async () => {
    t = await createAssetTestApp()
    const res = await t.upload(new Uint8Array(0), { digest: sha256Hex(await noisePng('x')) })
    expect(res.status).toBe(422)
    expect((await errorOf(res)).code).toBe('digest_mismatch')
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
  })

  it.each([
    ['folderPath', { folderPath: '/a/../b' }],
    ['kind', { kind: 'Not A Kind' }],
    ['description', { description: 'x'.repeat(2001) }],
  ])('refuses bad %s metadata with 400 and drops the bytes it stored', async (param, meta) => {
    t = await createAssetTestApp()
    const res = await t.upload(await noisePng('meta'), { meta })
    expect(res.status).toBe(400)
    expect(await errorOf(res)).toMatchObject({ code: 'invalid_request', param })
    expect(await rowCount(t)).toBe(0)
    expect(t.files()).toEqual({ blobs: [], temp: [], quarantine: [] })
  })

  it('refuses a body without a file part (400), and one that is not multipart (415)', async () => {
    t = await createAssetTestApp()
    const form = new FormData()
    form.append('kind', 'image')
    const noFile = await t.app.request('/v1/assets', {
      method: 'POST',
      headers: { 'x-content-sha256': 'a'.repeat(64) },
      body: form,
    })
    expect(noFile.status).toBe(400)
    expect(await errorOf(noFile)).toMatchObject({ code: 'invalid_request', param: 'file' })
    const json = await t.app.request('/v1/assets', {
      method: 'POST',
      headers: { 'x-content-sha256': 'a'.repeat(64), 'content-type': 'application/json' },
      body: '{}',
    })
    // The spec documents 415 for a body that is not multipart/form-data.
    expect(json.status).toBe(415)
    expect((await errorOf(json)).code).toBe('unsupported_media_type')
    expect(t.files().blobs).toEqual([])
  })
})
