import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPgAssetsRepository } from '../pg-repositories/assets.ts'
import type { AssetsRepository, NewAsset } from '../ports.ts'
import type { AssetRow } from '../schema/index.ts'
import { type Adapters, adapterOn, type OpenBackend, testBackends } from './testing/backends.ts'

const assetsOn: Adapters<AssetsRepository> = {
  sqlite: (store) => store.assets,
  postgres: ({ pool }) => createPgAssetsRepository(pool),
}

const hash = (n: number) => n.toString(16).padStart(64, '0')

/** A new asset with every optional field left out. */
function asset(workspaceId: string, id: string, overrides: Partial<NewAsset> = {}): NewAsset {
  return {
    id,
    workspaceId,
    kind: 'image',
    mediaType: 'image/png',
    contentHash: hash(Number.parseInt(id.replace(/\D/g, '') || '0', 10)),
    sizeBytes: 1024,
    folderPath: '/uploads',
    createdAt: '2030-01-01T00:00:10.000Z',
    ...overrides,
  }
}

const ids = (rows: AssetRow[]) => rows.map((row) => row.id)

/**
 * One database per backend for the whole suite, two instances on it (`repo`, `other`); each test
 * works in workspaces of its own. On PostgreSQL the database's default collation is ICU en-US,
 * not the server's byte-wise C.UTF-8: case and accents sort unlike bytes there, so every
 * ordering and range below proves the adapter compares bytes, as SQLite does.
 */
describe.each(testBackends)('AssetsRepository on $name', (backend) => {
  let database: OpenBackend
  let repo: AssetsRepository
  let other: AssetsRepository
  let workspaceCount = 0
  /** A workspace of its own for each test, so tests do not see one another's rows. */
  const workspace = async () => {
    workspaceCount += 1
    const id = `ws_${workspaceCount}`
    await database.addWorkspaces(id)
    return id
  }

  beforeAll(async () => {
    database = await backend.open({ pgIcuLocale: 'en-US' })
    repo = adapterOn(database.connection, assetsOn)
    other = adapterOn(await database.openAnother(), assetsOn)
  })
  afterAll(async () => {
    await database?.close()
  })

  it('inserts a row and answers it exactly: nulls for what was left out, sizes past 2^31', async () => {
    const ws = await workspace()
    const { asset: row, created } = await repo.insertOrGet(
      asset(ws, 'ast_1', { sizeBytes: 3_000_000_000 }),
    )
    const expected: AssetRow = {
      id: 'ast_1',
      workspaceId: ws,
      kind: 'image',
      mediaType: 'image/png',
      contentHash: hash(1),
      sizeBytes: 3_000_000_000,
      width: null,
      height: null,
      description: null,
      folderPath: '/uploads',
      sourceTaskId: null,
      sourceAgentImUserId: null,
      createdAt: '2030-01-01T00:00:10.000Z',
    }
    expect(created).toBe(true)
    expect(row).toStrictEqual(expected)
    expect(await repo.get(ws, 'ast_1')).toStrictEqual(expected)
    expect(await other.get(ws, 'ast_1')).toStrictEqual(expected)
    expect(await repo.list(ws, {}, { limit: 10 })).toStrictEqual([expected])
    expect(await repo.delete(ws, 'ast_1')).toStrictEqual(expected)
  })

  it('answers every field as written', async () => {
    const ws = await workspace()
    const full: AssetRow = {
      id: 'ast_2',
      workspaceId: ws,
      kind: 'reference',
      mediaType: 'image/webp',
      contentHash: hash(2),
      sizeBytes: 77,
      width: 640,
      height: 480,
      description: 'a café at night',
      folderPath: '/Fotos/über',
      sourceTaskId: 'task-9',
      sourceAgentImUserId: 'agent-3',
      createdAt: '2030-01-01T00:00:11.123Z',
    }
    expect((await repo.insertOrGet(full)).asset).toStrictEqual(full)
    expect(await other.get(ws, 'ast_2')).toStrictEqual(full)
  })

  it('answers the standing row for bytes the workspace has, and creates nothing', async () => {
    const ws = await workspace()
    const first = await repo.insertOrGet(asset(ws, 'ast_3', { description: 'first' }))
    const again = await other.insertOrGet(
      asset(ws, 'ast_4', { contentHash: hash(3), description: 'second', folderPath: '/x' }),
    )
    expect(again).toStrictEqual({ asset: first.asset, created: false })
    expect(await repo.get(ws, 'ast_4')).toBeUndefined()
    expect(ids(await repo.list(ws, {}, { limit: 10 }))).toEqual(['ast_3'])
  })

  it('gives the same bytes inserted at once through two connections one row, answered to all', async () => {
    const ws = await workspace()
    const attempts = Array.from({ length: 12 }, (_, index) =>
      (index % 2 === 0 ? repo : other).insertOrGet(
        asset(ws, `ast_race_${String(index).padStart(2, '0')}`, { contentHash: hash(0xace) }),
      ),
    )
    const results = await Promise.all(attempts)
    expect(results.filter((result) => result.created)).toHaveLength(1)
    const winner = results.find((result) => result.created)?.asset
    for (const result of results) {
      expect(result.asset).toStrictEqual(winner)
    }
    expect(await repo.list(ws, {}, { limit: 20 })).toStrictEqual([winner])
  })

  it('keeps one row per workspace for the same bytes', async () => {
    const [a, b] = [await workspace(), await workspace()]
    const inA = await repo.insertOrGet(asset(a, 'ast_5', { contentHash: hash(0xbeef) }))
    const inB = await other.insertOrGet(asset(b, 'ast_6', { contentHash: hash(0xbeef) }))
    expect([inA.created, inB.created]).toEqual([true, true])
    expect(inB.asset.workspaceId).toBe(b)
    expect(await repo.workspaceOf('ast_5')).toBe(a)
    expect(await repo.workspaceOf('ast_6')).toBe(b)
  })

  it('pages newest first on the id: limit + 1 rows, then before the last id shown', async () => {
    const ws = await workspace()
    for (const n of [11, 12, 13, 14, 15]) {
      await repo.insertOrGet(asset(ws, `ast_${n}`))
    }
    const first = await repo.list(ws, {}, { limit: 2 })
    expect(ids(first)).toEqual(['ast_15', 'ast_14', 'ast_13'])
    const second = await other.list(ws, {}, { limit: 2, beforeId: 'ast_14' })
    expect(ids(second)).toEqual(['ast_13', 'ast_12', 'ast_11'])
    const last = await repo.list(ws, {}, { limit: 2, beforeId: 'ast_12' })
    expect(ids(last)).toEqual(['ast_11'])
    expect(await repo.list(ws, {}, { limit: 2, beforeId: 'ast_11' })).toEqual([])
    // An empty cursor is no cursor.
    expect(ids(await repo.list(ws, {}, { limit: 1, beforeId: '' }))).toEqual(['ast_15', 'ast_14'])
  })

  it('orders and pages ids by their bytes: uppercase before lowercase', async () => {
    const ws = await workspace()
    for (const [id, n] of [
      ['ast_a', 21],
      ['ast_B', 22],
      ['ast_b', 23],
      ['ast_A', 24],
    ] as const) {
      await repo.insertOrGet(asset(ws, id, { contentHash: hash(n) }))
    }
    expect(ids(await repo.list(ws, {}, { limit: 10 }))).toEqual([
      'ast_b',
      'ast_a',
      'ast_B',
      'ast_A',
    ])
    expect(ids(await repo.list(ws, {}, { limit: 10, beforeId: 'ast_a' }))).toEqual([
      'ast_B',
      'ast_A',
    ])
  })

  it('filters a folder by byte-wise prefix: case-sensitive, accents are other bytes', async () => {
    const ws = await workspace()
    const folders = [
      '/fotos',
      '/fotos/2030',
      '/fotosa',
      '/Fotos',
      '/Fotos/x',
      '/fötos',
      '/e',
      '/é',
      '/éa',
      '/z',
    ]
    for (const [index, folderPath] of folders.entries()) {
      await repo.insertOrGet(
        asset(ws, `ast_f${String(index).padStart(2, '0')}`, {
          contentHash: hash(100 + index),
          folderPath,
        }),
      )
    }
    const folderOf = async (folderPath: string) =>
      (await other.list(ws, { folderPath }, { limit: 20 })).map((row) => row.folderPath).sort()
    expect(await folderOf('/fotos')).toEqual(['/fotos', '/fotos/2030', '/fotosa'])
    expect(await folderOf('/Fotos')).toEqual(['/Fotos', '/Fotos/x'])
    expect(await folderOf('/fö')).toEqual(['/fötos'])
    expect(await folderOf('/e')).toEqual(['/e'])
    expect(await folderOf('/é')).toEqual(['/é', '/éa'])
    expect(await folderOf('/')).toEqual([...folders].sort())
    expect(await folderOf('/nothing')).toEqual([])
    // Paged inside the folder too.
    const page = await repo.list(ws, { folderPath: '/fotos' }, { limit: 1, beforeId: 'ast_f02' })
    expect(ids(page)).toEqual(['ast_f01', 'ast_f00'])
  })

  it('filters by kind, media type and source task, alone and together', async () => {
    const ws = await workspace()
    await repo.insertOrGet(
      asset(ws, 'ast_31', { kind: 'image', mediaType: 'image/png', sourceTaskId: 't1' }),
    )
    await repo.insertOrGet(
      asset(ws, 'ast_32', { kind: 'mask', mediaType: 'image/png', sourceTaskId: 't1' }),
    )
    await repo.insertOrGet(
      asset(ws, 'ast_33', { kind: 'image', mediaType: 'image/jpeg', sourceTaskId: 't2' }),
    )
    await repo.insertOrGet(asset(ws, 'ast_34', { kind: 'image', mediaType: 'image/jpeg' }))
    const listed = async (filter: Parameters<AssetsRepository['list']>[1]) =>
      ids(await repo.list(ws, filter, { limit: 10 }))
    expect(await listed({ kind: 'image' })).toEqual(['ast_34', 'ast_33', 'ast_31'])
    expect(await listed({ kind: 'mask' })).toEqual(['ast_32'])
    expect(await listed({ mediaType: 'image/jpeg' })).toEqual(['ast_34', 'ast_33'])
    expect(await listed({ sourceTaskId: 't1' })).toEqual(['ast_32', 'ast_31'])
    expect(await listed({ kind: 'image', sourceTaskId: 't1' })).toEqual(['ast_31'])
    expect(await listed({ kind: 'image', mediaType: 'image/png', sourceTaskId: 't2' })).toEqual([])
    // Empty values filter nothing, as an absent query parameter.
    expect(await listed({ kind: '', mediaType: '', sourceTaskId: '', folderPath: '' })).toEqual([
      'ast_34',
      'ast_33',
      'ast_32',
      'ast_31',
    ])
  })

  it('bounds the creation time inclusively, whatever form the instant is written in', async () => {
    const ws = await workspace()
    const created = [
      ['ast_41', '2030-01-01T00:00:19.999Z'],
      ['ast_42', '2030-01-01T00:00:20.000Z'],
      ['ast_43', '2030-01-01T00:00:21.000Z'],
      ['ast_44', '2030-01-01T00:00:22.500Z'],
    ] as const
    for (const [id, createdAt] of created) {
      await repo.insertOrGet(asset(ws, id, { createdAt }))
    }
    const listed = async (filter: Parameters<AssetsRepository['list']>[1]) =>
      ids(await repo.list(ws, filter, { limit: 10 }))
    expect(await listed({ createdAfter: '2030-01-01T00:00:20Z' })).toEqual([
      'ast_44',
      'ast_43',
      'ast_42',
    ])
    expect(await listed({ createdBefore: '2030-01-01T00:00:21Z' })).toEqual([
      'ast_43',
      'ast_42',
      'ast_41',
    ])
    expect(
      await listed({
        createdAfter: '2030-01-01T01:00:20+01:00',
        createdBefore: '2030-01-01T00:00:21.000Z',
      }),
    ).toEqual(['ast_43', 'ast_42'])
    expect(await listed({ createdAfter: '2030-01-01T00:00:22.501Z' })).toEqual([])
  })

  it('deletes once, answering the deleted row; the bytes stay referenced while any workspace has them', async () => {
    const [a, b] = [await workspace(), await workspace()]
    const shared = hash(0xd0d0)
    const inA = await repo.insertOrGet(asset(a, 'ast_51', { contentHash: shared }))
    await repo.insertOrGet(asset(b, 'ast_52', { contentHash: shared }))
    expect(await other.isHashReferenced(shared)).toBe(true)
    expect(await other.delete(a, 'ast_51')).toStrictEqual(inA.asset)
    expect(await repo.delete(a, 'ast_51')).toBeUndefined()
    expect(await repo.get(a, 'ast_51')).toBeUndefined()
    expect(await repo.workspaceOf('ast_51')).toBeUndefined()
    expect(await repo.isHashReferenced(shared)).toBe(true)
    await repo.delete(b, 'ast_52')
    expect(await repo.isHashReferenced(shared)).toBe(false)
    expect(await repo.isHashReferenced(hash(0xfff_fff))).toBe(false)
  })

  it('keeps workspaces apart: another workspace cannot get, list or delete an asset', async () => {
    const [a, b] = [await workspace(), await workspace()]
    const { asset: row } = await repo.insertOrGet(asset(a, 'ast_61', { folderPath: '/shared' }))
    expect(await other.get(b, 'ast_61')).toBeUndefined()
    expect(await other.list(b, {}, { limit: 10 })).toEqual([])
    expect(await other.list(b, { folderPath: '/shared' }, { limit: 10 })).toEqual([])
    expect(await other.delete(b, 'ast_61')).toBeUndefined()
    expect(await repo.get(a, 'ast_61')).toStrictEqual(row)
    expect(await other.workspaceOf('ast_61')).toBe(a)
    expect(await other.workspaceOf('ast_missing')).toBeUndefined()
  })
})

describe('AssetsRepository rows are the same on every backend', () => {
  const opened: OpenBackend[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()))
  })

  it('answers the same rows from every method for the same writes', async () => {
    const answers = []
    for (const backend of testBackends) {
      const database = await backend.open()
      opened.push(database)
      await database.addWorkspaces('ws_a', 'ws_b')
      const assets = adapterOn(database.connection, assetsOn)
      const full = asset('ws_a', 'ast_01', {
        width: 1024,
        height: 768,
        description: 'Ünïcode',
        folderPath: '/Set/ß',
        sourceTaskId: 'task',
        sourceAgentImUserId: 'agent',
        sizeBytes: 2 ** 40,
      })
      answers.push({
        created: await assets.insertOrGet(full),
        bare: await assets.insertOrGet(asset('ws_a', 'ast_02')),
        again: await assets.insertOrGet(asset('ws_a', 'ast_03', { contentHash: hash(1) })),
        elsewhere: await assets.insertOrGet(asset('ws_b', 'ast_04', { contentHash: hash(1) })),
        got: await assets.get('ws_a', 'ast_01'),
        listed: await assets.list('ws_a', {}, { limit: 1 }),
        folder: await assets.list('ws_a', { folderPath: '/Set' }, { limit: 5 }),
        owner: await assets.workspaceOf('ast_04'),
        referenced: await assets.isHashReferenced(hash(2)),
        deleted: await assets.delete('ws_a', 'ast_02'),
        unreferenced: await assets.isHashReferenced(hash(2)),
      })
    }
    const [sqlite, ...others] = answers
    for (const other of others) {
      expect(other).toStrictEqual(sqlite)
    }
    expect(sqlite?.created.asset.sizeBytes).toBe(2 ** 40)
  })
})
