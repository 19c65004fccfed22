import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPgGenerationsRepository } from '../pg-repositories/generations.ts'
import type { GenerationFilter, GenerationsRepository } from '../ports.ts'
import type { GenerationRow, NewGeneration } from '../schema/index.ts'
import { type Adapters, adapterOn, type OpenBackend, testBackends } from './testing/backends.ts'
import { generationRow } from './testing/generation-rows.ts'

const generationsOn: Adapters<GenerationsRepository> = {
  sqlite: (store) => store.generations,
  postgres: ({ pool }) => createPgGenerationsRepository(pool),
}

/** The instant `second` seconds into the suite's day, as stored. */
const at = (second: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString()

function newGeneration(id: string, overrides: Partial<NewGeneration> = {}): NewGeneration {
  return generationRow(id, { workspaceId: 'ws_a', createdAt: at(1), ...overrides })
}

/** Every column as the SQLite adapter answers it: absent optional columns are null. */
function stored(row: NewGeneration): GenerationRow {
  return {
    size: null,
    seed: null,
    usage: null,
    error: null,
    timings: null,
    parentGenerationId: null,
    rootGenerationId: null,
    parentAssetId: null,
    inputs: null,
    imageIndexes: null,
    sentText: null,
    modelTurn: null,
    sourceTaskId: null,
    webhookUrl: null,
    finishedAt: null,
    announcedAt: null,
    ...row,
  } as GenerationRow
}

/** A row with every column set, nested JSON and non-integral numbers included. */
const FULL = newGeneration('gen_full', {
  status: 'running',
  operation: 'edit',
  size: '1024x1024',
  seed: 2_147_483_647,
  n: 3,
  parameters: { quality: 'high', style: { palette: ['teal', 'ochre'], strength: 0.75 } },
  assetIds: ['ast_1', 'ast_2'],
  attempts: [
    { provider: 'local', ms: 12.5, ok: false },
    { provider: 'local', ok: true },
  ],
  warnings: ['n reduced'],
  usage: { input_tokens: 12, output_tokens: 4096 },
  costCents: 3.3,
  error: { code: 'upstream_timeout', retryable: true, detail: { after_ms: 30_000 } },
  timings: { queue_ms: 0.25, upstream_ms: 812 },
  parentGenerationId: 'gen_parent',
  rootGenerationId: 'gen_root',
  parentAssetId: 'ast_parent',
  inputAssetIds: ['ast_in'],
  inputs: [{ assetId: 'ast_in', role: 'reference', displayName: 'logo' }],
  imageIndexes: [0, 2],
  sentText: 'Edit: make it blue',
  modelTurn: { role: 'model', parts: [{ text: 'ok', thoughtSignature: 'c2ln' }, { n: null }] },
  sourceTaskId: 'task_7',
  webhookUrl: 'https://hooks.example/imagegate',
  createdAt: at(5),
  finishedAt: '2030-01-01T00:00:06.125Z',
  announcedAt: '2030-01-01T00:00:06.250Z',
})

const ids = (rows: GenerationRow[]) => rows.map((row) => row.id)

/**
 * On PostgreSQL every database here has an ICU en-US default collation, not the server's
 * byte-wise C.UTF-8: case sorts unlike bytes there, so the orderings below prove the adapter
 * compares ids byte-wise, as SQLite does.
 */
const OPEN = { pgIcuLocale: 'en-US' }

/**
 * A Gemini-like model turn whose keys are in neither sorted nor jsonb order (jsonb puts shorter
 * keys first): it must read back as the same JSON text.
 */
const UNSORTED_TURN = {
  parts: [
    { thoughtSignature: 'c2lnbmF0dXJl', text: 'Here it is' },
    { inlineData: { mimeType: 'image/png', data: 'iVBORw0K' }, thoughtSignature: 'c2ln' },
  ],
  role: 'model',
  zIndex: { y: 2, x: 1, aa: [{ second: 2, first: 1 }] },
}

describe.each(testBackends)('GenerationsRepository on $name', (backend) => {
  let database: OpenBackend
  let repo: GenerationsRepository

  beforeEach(async () => {
    database = await backend.open(OPEN)
    await database.addWorkspaces('ws_a', 'ws_b')
    repo = adapterOn(database.connection, generationsOn)
  })
  afterEach(async () => {
    await database.close()
  })

  const insertAll = async (rows: NewGeneration[]) => {
    for (const row of rows) {
      await repo.insert(row)
    }
  }
  const addJob = (generationId: string, state: string) =>
    database.run(
      `INSERT INTO generation_jobs (generation_id, workspace_id, state, payload, attempts,
         cancel_requested, created_at)
       SELECT id, workspace_id, $2, '{}', 0, false, 0 FROM generations WHERE id = $1`,
      [generationId, state],
    )

  it('answers an inserted row as stored, every column, and gets it by workspace and id', async () => {
    expect(await repo.insert(FULL)).toStrictEqual(stored(FULL))
    expect(await repo.get('ws_a', 'gen_full')).toStrictEqual(stored(FULL))
    const bare = newGeneration('gen_bare')
    expect(await repo.insert(bare)).toStrictEqual(stored(bare))
    expect(await repo.get('ws_a', 'gen_bare')).toStrictEqual(stored(bare))
    expect(await repo.get('ws_a', 'gen_missing')).toBeUndefined()
  })

  it('keeps workspaces apart: another workspace’s ids are neither got nor listed', async () => {
    await insertAll([
      newGeneration('gen_a1', { assetIds: ['ast_shared'] }),
      newGeneration('gen_b1', { workspaceId: 'ws_b', assetIds: ['ast_shared'] }),
    ])
    expect(await repo.get('ws_b', 'gen_a1')).toBeUndefined()
    expect(await repo.get('ws_a', 'gen_b1')).toBeUndefined()
    expect(ids(await repo.list('ws_a', {}, { limit: 10 }))).toEqual(['gen_a1'])
    expect(ids(await repo.list('ws_b', {}, { limit: 10 }))).toEqual(['gen_b1'])
    expect(await repo.list('ws_none', {}, { limit: 10 })).toEqual([])
    expect((await repo.findByAsset('ws_b', 'ast_shared'))?.id).toBe('gen_b1')
  })

  it('updates only the columns given; updateReturning answers the row as it now stands', async () => {
    await repo.insert(newGeneration('gen_1', { status: 'running', warnings: ['w'] }))
    await repo.update('gen_1', { status: 'succeeded', assetIds: ['ast_9'], prompt: undefined })
    expect(await repo.get('ws_a', 'gen_1')).toStrictEqual(
      stored(newGeneration('gen_1', { status: 'succeeded', assetIds: ['ast_9'], warnings: ['w'] })),
    )
    const changed = await repo.updateReturning('gen_1', {
      costCents: 0.5,
      usage: { output_tokens: 7 },
      finishedAt: at(9),
      warnings: [],
    })
    const expected = stored(
      newGeneration('gen_1', {
        status: 'succeeded',
        assetIds: ['ast_9'],
        costCents: 0.5,
        usage: { output_tokens: 7 },
        finishedAt: at(9),
      }),
    )
    expect(changed).toStrictEqual(expected)
    expect(await repo.get('ws_a', 'gen_1')).toStrictEqual(expected)
    expect(await repo.updateReturning('gen_missing', { status: 'failed' })).toBeUndefined()
    await repo.update('gen_missing', { status: 'failed' })
    expect(await repo.updateReturning('gen_1', { usage: null })).toMatchObject({ usage: null })
  })

  it('finds the newest generation of the workspace that returned an asset', async () => {
    await insertAll([
      newGeneration('gen_1', { assetIds: ['ast_x', 'ast_1'] }),
      newGeneration('gen_2', { assetIds: ['ast_2', 'ast_x', 'ast_3'] }),
      newGeneration('gen_3', { assetIds: ['ast_10'] }),
      newGeneration('gen_4', { workspaceId: 'ws_b', assetIds: ['ast_x'] }),
    ])
    expect((await repo.findByAsset('ws_a', 'ast_x'))?.id).toBe('gen_2')
    expect(await repo.findByAsset('ws_a', 'ast_1')).toStrictEqual(
      stored(newGeneration('gen_1', { assetIds: ['ast_x', 'ast_1'] })),
    )
    expect((await repo.findByAsset('ws_a', 'ast_10'))?.id).toBe('gen_3')
    expect(await repo.findByAsset('ws_a', 'ast_4')).toBeUndefined()
    expect(await repo.findByAsset('ws_a', 'ast')).toBeUndefined()
  })

  it('lists newest first with limit + 1 rows, and pages by keyset without gaps', async () => {
    const all = Array.from({ length: 7 }, (_, index) => `gen_0${index}`)
    await insertAll(all.map((id, index) => newGeneration(id, { createdAt: at(index) })))
    const first = await repo.list('ws_a', {}, { limit: 3 })
    expect(ids(first)).toEqual(['gen_06', 'gen_05', 'gen_04', 'gen_03'])
    expect(first[0]).toStrictEqual(stored(newGeneration('gen_06', { createdAt: at(6) })))
    const seen: string[] = []
    let afterId: string | undefined
    for (;;) {
      const page = await repo.list('ws_a', {}, { limit: 3, afterId })
      seen.push(...ids(page.slice(0, 3)))
      if (page.length <= 3) {
        break
      }
      afterId = page[2]?.id
    }
    expect(seen).toEqual([...all].reverse())
    expect(ids(await repo.list('ws_a', {}, { limit: 10, afterId: 'gen_02' }))).toEqual([
      'gen_01',
      'gen_00',
    ])
  })

  it('lists a chain oldest first, in the order it grew, paging forward', async () => {
    await insertAll([
      newGeneration('gen_1', { rootGenerationId: 'gen_1' }),
      newGeneration('gen_2', { rootGenerationId: 'gen_1', parentGenerationId: 'gen_1' }),
      newGeneration('gen_3'),
      newGeneration('gen_4', { rootGenerationId: 'gen_1', parentGenerationId: 'gen_2' }),
      newGeneration('gen_5', { rootGenerationId: 'gen_5' }),
      newGeneration('gen_6', { workspaceId: 'ws_b', rootGenerationId: 'gen_1' }),
    ])
    expect(ids(await repo.list('ws_a', { rootId: 'gen_1' }, { limit: 10 }))).toEqual([
      'gen_1',
      'gen_2',
      'gen_4',
    ])
    expect(ids(await repo.list('ws_a', { rootId: 'gen_1' }, { limit: 1 }))).toEqual([
      'gen_1',
      'gen_2',
    ])
    expect(
      ids(await repo.list('ws_a', { rootId: 'gen_1' }, { limit: 1, afterId: 'gen_2' })),
    ).toEqual(['gen_4'])
  })

  it('orders and pages ids byte-wise, as SQLite does, where a linguistic collation would not', async () => {
    // Bytes: gen_B < gen_a < gen_c (uppercase first); en-US: gen_a < gen_B < gen_c.
    await insertAll(
      ['gen_a', 'gen_B', 'gen_c'].map((id) =>
        newGeneration(id, { rootGenerationId: 'gen_root', assetIds: ['ast_shared'] }),
      ),
    )
    expect(ids(await repo.list('ws_a', {}, { limit: 10 }))).toEqual(['gen_c', 'gen_a', 'gen_B'])
    expect(ids(await repo.list('ws_a', {}, { limit: 10, afterId: 'gen_c' }))).toEqual([
      'gen_a',
      'gen_B',
    ])
    expect(ids(await repo.list('ws_a', {}, { limit: 10, afterId: 'gen_a' }))).toEqual(['gen_B'])
    const chain = { rootId: 'gen_root' }
    expect(ids(await repo.list('ws_a', chain, { limit: 10 }))).toEqual(['gen_B', 'gen_a', 'gen_c'])
    expect(ids(await repo.list('ws_a', chain, { limit: 10, afterId: 'gen_B' }))).toEqual([
      'gen_a',
      'gen_c',
    ])
    await repo.update('gen_c', { assetIds: [] })
    expect((await repo.findByAsset('ws_a', 'ast_shared'))?.id).toBe('gen_a')
  })

  it('keeps the model turn as written: its keys read back in their order, on insert and update', async () => {
    const text = JSON.stringify(UNSORTED_TURN)
    await repo.insert(newGeneration('gen_turn', { modelTurn: UNSORTED_TURN, assetIds: ['ast_t'] }))
    const turnsRead = async () => [
      (await repo.get('ws_a', 'gen_turn'))?.modelTurn,
      (await repo.list('ws_a', {}, { limit: 1 }))[0]?.modelTurn,
      (await repo.findByAsset('ws_a', 'ast_t'))?.modelTurn,
    ]
    for (const turn of await turnsRead()) {
      expect(JSON.stringify(turn)).toBe(text)
    }
    const [stored] = await database.run<{ turn: string }>(
      'SELECT CAST(model_turn AS text) AS turn FROM generations WHERE id = $1',
      ['gen_turn'],
    )
    expect(stored?.turn).toBe(text)

    const turns = [UNSORTED_TURN, { role: 'model', parts: [{ text: 'again' }] }]
    await repo.update('gen_turn', { modelTurn: null })
    const updated = await repo.updateReturning('gen_turn', { modelTurn: turns })
    expect(JSON.stringify(updated?.modelTurn)).toBe(JSON.stringify(turns))
    for (const turn of await turnsRead()) {
      expect(JSON.stringify(turn)).toBe(JSON.stringify(turns))
    }
  })

  it('filters by status, model, provider and creation time, alone and together', async () => {
    await insertAll([
      newGeneration('gen_1', { status: 'failed', createdAt: at(1) }),
      newGeneration('gen_2', { model: 'gpt-image-1', provider: 'openai', createdAt: at(2) }),
      newGeneration('gen_3', { model: 'gpt-image-1', provider: 'azure', createdAt: at(3) }),
      newGeneration('gen_4', { status: 'running', provider: 'openai', createdAt: at(4) }),
      newGeneration('gen_5', { createdAt: '2030-01-01T00:00:04.500Z' }),
    ])
    const listed = async (filter: GenerationFilter) =>
      ids(await repo.list('ws_a', filter, { limit: 10 }))
    expect(await listed({ status: 'failed' })).toEqual(['gen_1'])
    expect(await listed({ status: 'succeeded' })).toEqual(['gen_5', 'gen_3', 'gen_2'])
    expect(await listed({ model: 'gpt-image-1' })).toEqual(['gen_3', 'gen_2'])
    expect(await listed({ provider: 'openai' })).toEqual(['gen_4', 'gen_2'])
    expect(await listed({ model: 'gpt-image-1', provider: 'openai' })).toEqual(['gen_2'])
    expect(await listed({ status: 'cancelled' })).toEqual([])
    // Both bounds are inclusive, and compared as instants however they are spelled.
    expect(await listed({ createdAfter: '2030-01-01T00:00:02Z' })).toEqual([
      'gen_5',
      'gen_4',
      'gen_3',
      'gen_2',
    ])
    expect(await listed({ createdBefore: '2030-01-01T01:00:03+01:00' })).toEqual([
      'gen_3',
      'gen_2',
      'gen_1',
    ])
    expect(
      await listed({
        createdAfter: '2030-01-01T00:00:02.000Z',
        createdBefore: '2030-01-01T00:00:04.5+00:00',
      }),
    ).toEqual(['gen_5', 'gen_4', 'gen_3', 'gen_2'])
    expect(
      await listed({ createdAfter: '2030-01-01T00:00:03Z', provider: 'openai', status: 'running' }),
    ).toEqual(['gen_4'])
  })

  it('fails every unfinished generation that no unfinished job owns, and counts them', async () => {
    await insertAll([
      newGeneration('gen_run', { status: 'running' }),
      newGeneration('gen_queued', { status: 'queued', workspaceId: 'ws_b' }),
      newGeneration('gen_done', { status: 'succeeded' }),
      newGeneration('gen_failed', { status: 'failed', error: { code: 'earlier' } }),
      newGeneration('gen_cancelled', { status: 'cancelled' }),
      newGeneration('gen_job_queued', { status: 'queued' }),
      newGeneration('gen_job_running', { status: 'running' }),
      newGeneration('gen_job_over', { status: 'running' }),
    ])
    await addJob('gen_job_queued', 'queued')
    await addJob('gen_job_running', 'running')
    await addJob('gen_job_over', 'failed')
    const error = { code: 'interrupted', message: 'the server stopped before it finished' }
    expect(await repo.failRunning(error, at(30))).toBe(3)
    const after = Object.fromEntries(
      [
        ...(await repo.list('ws_a', {}, { limit: 20 })),
        ...(await repo.list('ws_b', {}, { limit: 20 })),
      ].map((row) => [row.id, row]),
    )
    for (const id of ['gen_run', 'gen_queued', 'gen_job_over']) {
      expect(after[id]).toMatchObject({ status: 'failed', error, finishedAt: at(30) })
    }
    expect(after.gen_done).toMatchObject({ status: 'succeeded', error: null, finishedAt: null })
    expect(after.gen_failed).toMatchObject({ status: 'failed', error: { code: 'earlier' } })
    expect(after.gen_cancelled?.status).toBe('cancelled')
    expect(after.gen_job_queued).toMatchObject({ status: 'queued', error: null })
    expect(after.gen_job_running).toMatchObject({ status: 'running', error: null })
    expect(await repo.failRunning(error, at(31))).toBe(0)
  })

  it('with createdBefore, fails only the generations created before that instant', async () => {
    await insertAll([
      newGeneration('gen_old', { status: 'running', createdAt: at(1) }),
      newGeneration('gen_old_job', { status: 'queued', createdAt: at(2) }),
      newGeneration('gen_edge', { status: 'running', createdAt: at(10) }),
      newGeneration('gen_new', { status: 'queued', createdAt: at(11), workspaceId: 'ws_b' }),
    ])
    await addJob('gen_old_job', 'running')
    const error = { code: 'interrupted', message: 'left by a stopped instance' }
    // 00:00:10 spelled with an offset: the bound is an instant, and it is exclusive.
    const startedAt = '2030-01-01T01:00:10+01:00'
    expect(await repo.failRunning(error, at(40), { createdBefore: startedAt })).toBe(1)
    expect(await repo.get('ws_a', 'gen_old')).toMatchObject({ status: 'failed', error })
    expect((await repo.get('ws_a', 'gen_old_job'))?.status).toBe('queued')
    expect((await repo.get('ws_a', 'gen_edge'))?.status).toBe('running')
    expect((await repo.get('ws_b', 'gen_new'))?.status).toBe('queued')
    expect(await repo.failRunning(error, at(41), {})).toBe(2)
    expect((await repo.get('ws_a', 'gen_edge'))?.status).toBe('failed')
    expect((await repo.get('ws_b', 'gen_new'))?.status).toBe('failed')
  })
})

describe('GenerationsRepository rows are the same on every backend', () => {
  const opened: OpenBackend[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()))
  })

  it('answers the same rows from every method for the same writes', async () => {
    const answers = []
    for (const backend of testBackends) {
      const database = await backend.open(OPEN)
      opened.push(database)
      await database.addWorkspaces('ws_a')
      const repo = adapterOn(database.connection, generationsOn)
      const inserted = [await repo.insert(FULL), await repo.insert(newGeneration('gen_bare'))]
      answers.push({
        inserted,
        updated: await repo.updateReturning('gen_bare', {
          status: 'failed',
          error: { code: 'x', nested: [1, 2.5, null] },
          costCents: 1.25,
        }),
        got: await repo.get('ws_a', 'gen_full'),
        byAsset: await repo.findByAsset('ws_a', 'ast_2'),
        listed: await repo.list('ws_a', {}, { limit: 5 }),
        chain: await repo.list('ws_a', { rootId: 'gen_root' }, { limit: 5 }),
        failed: await repo.failRunning({ code: 'interrupted', message: 'm' }, at(50)),
        afterFail: await repo.get('ws_a', 'gen_full'),
      })
    }
    const [sqlite, ...others] = answers
    for (const other of others) {
      expect(other).toStrictEqual(sqlite)
    }
  })
})
