import { afterEach, describe, expect, it } from 'vitest'
import { type ManualClock, manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { type Asset, AssetPageSchema, AssetSchema } from '../../schemas/asset.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import { type AssetTestApp, createAssetTestApp, noiseJpeg, noisePng } from '../../testing/assets.ts'

let t: AssetTestApp
afterEach(async () => {
  await t.close()
})

const folders = ['/a/x', '/a/y', '/a_b', '/axb', '/b']
const START_MS = Date.UTC(2026, 0, 1)

/** Uploads `count` distinct images one minute apart, with metadata that varies by index. */
async function seed(count: number, clock: ManualClock): Promise<Asset[]> {
  const assets: Asset[] = []
  for (let index = 0; index < count; index++) {
    const bytes =
      index % 5 === 4 ? await noiseJpeg(`list ${index}`, 8) : await noisePng(`list ${index}`, 8)
    const res = await t.upload(bytes, {
      meta: {
        kind: index % 2 === 0 ? 'image' : 'reference',
        folderPath: folders[index % folders.length] as string,
        sourceTaskId: `task_${index % 3}`,
      },
    })
    expect(res.status).toBe(201)
    assets.push(AssetSchema.parse(await res.json()))
    clock.advance(60_000)
  }
  return assets
}

async function page(query: string) {
  const res = await t.app.request(`/v1/assets?${query}`)
  expect(res.status).toBe(200)
  return AssetPageSchema.parse(await res.json())
}

async function listAll(query: string, limit = 100) {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const next = await page(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
    ids.push(...next.data.map((asset) => asset.id))
    cursor = next.nextCursor
  } while (cursor)
  return ids
}

const newestFirst = (assets: Asset[]) => assets.map((asset) => asset.id).reverse()

describe('GET /v1/assets', () => {
  it('pages 25 assets 10 at a time, newest first, with no duplicate and no gap', async () => {
    const clock = manualClock(START_MS)
    t = await createAssetTestApp({ clock })
    const assets = await seed(25, clock)
    const first = await page('limit=10')
    expect(first).toMatchObject({ hasMore: true })
    const second = await page(`limit=10&cursor=${first.nextCursor}`)
    // A newer asset arriving between pages does not shift the pages already being walked.
    await t.upload(await noisePng('arrives mid-walk', 8))
    const third = await page(`limit=10&cursor=${second.nextCursor}`)
    expect([first.data.length, second.data.length, third.data.length]).toEqual([10, 10, 5])
    expect(third).toMatchObject({ hasMore: false, nextCursor: null })
    const walked = [...first.data, ...second.data, ...third.data]
    expect(walked.map((asset) => asset.id)).toEqual(newestFirst(assets))
    expect(walked).toEqual([...assets].reverse())
    expect((await page(`limit=10&cursor=${first.nextCursor}`)).data).toEqual(second.data)
  })

  it('answers an empty page for an empty workspace', async () => {
    t = await createAssetTestApp()
    expect(await page('')).toEqual({ data: [], nextCursor: null, hasMore: false })
  })

  it('filters by kind, folder prefix, task, media type and creation range, across pages', async () => {
    const clock = manualClock(START_MS)
    t = await createAssetTestApp({ clock })
    const assets = await seed(20, clock)
    const expectFilter = async (query: string, keep: (asset: Asset) => boolean) => {
      const expected = newestFirst(assets.filter(keep))
      expect(expected.length).toBeGreaterThan(0)
      expect(await listAll(query, 3)).toEqual(expected)
    }
    await expectFilter('kind=reference', (asset) => asset.kind === 'reference')
    await expectFilter('folderPath=/a/', (asset) => asset.folderPath.startsWith('/a/'))
    await expectFilter('folderPath=/a', (asset) => asset.folderPath.startsWith('/a'))
    // Wildcard characters in the prefix match literally, and case matters.
    await expectFilter('folderPath=/a_', (asset) => asset.folderPath === '/a_b')
    await expectFilter('sourceTaskId=task_1', (asset) => asset.sourceTaskId === 'task_1')
    await expectFilter('mediaType=image/jpeg', (asset) => asset.mediaType === 'image/jpeg')
    const from = assets[5]?.createdAt as string
    const to = assets[12]?.createdAt as string
    await expectFilter(
      `createdAfter=${from}&createdBefore=${to}`,
      (asset) => asset.createdAt >= from && asset.createdAt <= to,
    )
    await expectFilter(
      'kind=image&folderPath=/a&mediaType=image/png',
      (asset) =>
        asset.kind === 'image' &&
        asset.folderPath.startsWith('/a') &&
        asset.mediaType === 'image/png',
    )
    expect(await listAll('folderPath=/a%25')).toEqual([])
    expect(await listAll('folderPath=/A')).toEqual([])
    expect(await listAll('sourceTaskId=task_9')).toEqual([])
  })

  it('reads a creation bound written without milliseconds as the same instant', async () => {
    const clock = manualClock(START_MS)
    t = await createAssetTestApp({ clock })
    const assets = await seed(3, clock)
    const middle = assets[1] as Asset
    const instant = middle.createdAt.replace('.000Z', 'Z')
    expect(instant).not.toBe(middle.createdAt)
    expect(await listAll(`createdAfter=${instant}&createdBefore=${instant}`)).toEqual([middle.id])
  })

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
    [`cursor=${Buffer.from('{"id":"../../x"}').toString('base64url')}`, 'cursor'],
    ['mediaType=image/svg%2Bxml', 'mediaType'],
    ['createdAfter=yesterday', 'createdAfter'],
    ['kind=Not%20A%20Kind', 'kind'],
  ])('refuses %s with 400 invalid_request', async (query, param) => {
    t = await createAssetTestApp()
    const res = await t.app.request(`/v1/assets?${query}`)
    expect(res.status).toBe(400)
    const { error } = ErrorBodySchema.parse(await res.json())
    expect(error).toMatchObject({ code: 'invalid_request', param })
  })
})

describe('GET and DELETE /v1/assets/{id}', () => {
  it('GET answers the asset as the upload did', async () => {
    t = await createAssetTestApp()
    const uploaded = AssetSchema.parse(
      await (await t.upload(await noisePng('meta'), { meta: { description: 'd' } })).json(),
    )
    const { data } = await t.client.GET('/v1/assets/{id}', {
      params: { path: { id: uploaded.id } },
    })
    expect(data).toEqual(uploaded)
  })

  it('DELETE answers 204, then the asset is gone from every route', async () => {
    t = await createAssetTestApp()
    const asset = AssetSchema.parse(await (await t.upload(await noisePng('gone'))).json())
    const res = await t.app.request(`/v1/assets/${asset.id}`, { method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    for (const [method, path] of [
      ['GET', `/v1/assets/${asset.id}`],
      ['GET', `/v1/assets/${asset.id}/content`],
      ['HEAD', `/v1/assets/${asset.id}/content`],
      ['DELETE', `/v1/assets/${asset.id}`],
    ] as const) {
      expect((await t.app.request(path, { method })).status).toBe(404)
    }
    expect((await page('')).data).toEqual([])
  })

  it('an asset read just before its DELETE is gone right after it (no stale row served)', async () => {
    t = await createAssetTestApp()
    const asset = AssetSchema.parse(await (await t.upload(await noisePng('read-then-gone'))).json())
    const paths = [`/v1/assets/${asset.id}`, `/v1/assets/${asset.id}/content`]
    for (const path of paths) {
      expect((await t.app.request(path)).status).toBe(200)
    }
    expect((await t.app.request(paths[0] as string, { method: 'DELETE' })).status).toBe(204)
    for (const path of paths) {
      expect((await t.app.request(path)).status).toBe(404)
    }
  })

  it('answers 404 not_found for an id of the right shape that does not exist', async () => {
    t = await createAssetTestApp()
    const res = await t.app.request('/v1/assets/ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA')
    expect(res.status).toBe(404)
    const { error } = ErrorBodySchema.parse(await res.json())
    expect(error.code).toBe('not_found')
  })
})
