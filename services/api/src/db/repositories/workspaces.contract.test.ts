import type pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPgWorkspacesRepository } from '../pg-repositories/workspaces.ts'
import type { WorkspacesRepository } from '../ports.ts'
import type { WorkspaceRow } from '../schema/index.ts'
import {
  type Adapters,
  adapterOn,
  type BackendConnection,
  type OpenBackend,
  testBackends,
} from './testing/backends.ts'

const workspacesOn: Adapters<WorkspacesRepository> = {
  sqlite: (store) => store.workspaces,
  postgres: ({ pool }) => createPgWorkspacesRepository(pool),
}

const workspace = (id: string, createdAt = '2030-01-01T00:00:01.000Z'): WorkspaceRow => ({
  id,
  name: `team ${id}`,
  createdAt,
})

/** What the tables hold for a workspace: its balance and its grants. */
async function creditsOf(database: OpenBackend, workspaceId: string) {
  const [account] = await database.run<{ balance: number | string }>(
    'SELECT balance FROM credit_accounts WHERE workspace_id = $1',
    [workspaceId],
  )
  const grants = await database.run<{ delta: number | string; reference: string | null }>(
    `SELECT delta, reference FROM credit_ledger WHERE workspace_id = $1 AND kind = 'grant'
     ORDER BY seq`,
    [workspaceId],
  )
  return {
    balance: account === undefined ? undefined : Number(account.balance),
    grants: grants.map((grant) => ({ units: Number(grant.delta), reference: grant.reference })),
  }
}

async function workspaceIds(database: OpenBackend) {
  const rows = await database.run<{ id: string }>('SELECT id FROM workspaces ORDER BY id')
  return rows.map((row) => row.id)
}

describe.each(testBackends)('WorkspacesRepository on $name', (backend) => {
  let database: OpenBackend
  let repo: WorkspacesRepository
  const on = (connection: BackendConnection) => adapterOn(connection, workspacesOn)

  beforeEach(async () => {
    database = await backend.open()
    repo = on(database.connection)
  })
  afterEach(async () => {
    await database.close()
  })

  it('creates a workspace with its account and grant, and gets it by id', async () => {
    const row = workspace('ws_01')
    expect(await repo.createFunded(row, { units: 5000, reference: 'workspace:r1' })).toStrictEqual(
      row,
    )
    expect(await repo.get('ws_01')).toStrictEqual(row)
    expect(await repo.get('ws_missing')).toBeUndefined()
    expect(await creditsOf(database, 'ws_01')).toEqual({
      balance: 5000,
      grants: [{ units: 5000, reference: 'workspace:r1' }],
    })
  })

  it('gives a workspace created with no credits an empty account and no grant', async () => {
    await repo.createFunded(workspace('ws_01'), { units: 0, reference: 'workspace:r1' })
    expect(await creditsOf(database, 'ws_01')).toEqual({ balance: 0, grants: [] })
  })

  it('lists oldest first, workspaces of the same moment by id', async () => {
    const late = '2030-01-03T00:00:00.000Z'
    await repo.createFunded(workspace('ws_03', late), { units: 1, reference: 'r3' })
    await repo.createFunded(workspace('default', late), { units: 1, reference: 'r0' })
    await repo.createFunded(workspace('ws_01', '2030-01-02T00:00:00.000Z'), {
      units: 1,
      reference: 'r1',
    })
    expect(await repo.list()).toStrictEqual([
      workspace('ws_01', '2030-01-02T00:00:00.000Z'),
      workspace('default', late),
      workspace('ws_03', late),
    ])
  })

  it('answers the workspace a reference already funded and creates nothing', async () => {
    const first = await repo.createFunded(workspace('ws_01'), { units: 700, reference: 'ref' })
    const again = await repo.createFunded(workspace('ws_02', '2030-01-01T00:00:09.000Z'), {
      units: 900,
      reference: 'ref',
    })
    expect(again).toStrictEqual(first)
    expect(await repo.get('ws_02')).toBeUndefined()
    expect(await workspaceIds(database)).toEqual(['ws_01'])
    expect(await creditsOf(database, 'ws_01')).toEqual({
      balance: 700,
      grants: [{ units: 700, reference: 'ref' }],
    })
  })

  it('commits all or nothing: a grant that fails leaves no workspace nor account', async () => {
    await expect(
      repo.createFunded(workspace('ws_01'), { units: 1.5, reference: 'ref' }),
    ).rejects.toThrow(RangeError)
    expect(await repo.get('ws_01')).toBeUndefined()
    expect(await creditsOf(database, 'ws_01')).toEqual({ balance: undefined, grants: [] })
    // Nothing of the failed attempt holds the reference: a retry creates the workspace.
    expect(await repo.createFunded(workspace('ws_01'), { units: 2, reference: 'ref' })).toEqual(
      workspace('ws_01'),
    )
    expect((await creditsOf(database, 'ws_01')).balance).toBe(2)
  })

  it('refuses an id that exists and records no grant for the refused reference', async () => {
    await repo.createFunded(workspace('ws_01'), { units: 10, reference: 'first' })
    await expect(
      repo.createFunded(workspace('ws_01'), { units: 20, reference: 'second' }),
    ).rejects.toThrow()
    expect(await creditsOf(database, 'ws_01')).toEqual({
      balance: 10,
      grants: [{ units: 10, reference: 'first' }],
    })
    expect(await repo.createFunded(workspace('ws_02'), { units: 20, reference: 'second' })).toEqual(
      workspace('ws_02'),
    )
  })

  it('of concurrent creations for one reference on two instances, one workspace stands', async () => {
    const other = on(await database.openAnother())
    const attempts = Array.from({ length: 8 }, (_, index) =>
      (index % 2 === 0 ? repo : other).createFunded(workspace(`ws_${index}`), {
        units: 300,
        reference: 'workspace:retried',
      }),
    )
    const answers = await Promise.all(attempts)
    const winner = answers[0] as WorkspaceRow
    expect(answers.every((answer) => answer.id === winner.id)).toBe(true)
    expect(await workspaceIds(database)).toEqual([winner.id])
    expect(await creditsOf(database, winner.id)).toEqual({
      balance: 300,
      grants: [{ units: 300, reference: 'workspace:retried' }],
    })
    const accounts = await database.run('SELECT workspace_id FROM credit_accounts')
    expect(accounts).toHaveLength(1)
  })
})

describe('WorkspacesRepository on PostgreSQL, a reference granted while the creation runs', () => {
  const postgres = testBackends.find((backend) => backend.name === 'PostgreSQL')
  let database: OpenBackend

  beforeEach(async () => {
    database = await (postgres as (typeof testBackends)[number]).open()
  })
  afterEach(async () => {
    await database.close()
  })

  it('rolls its own workspace back and answers the one that committed the grant', async () => {
    if (database.connection.kind !== 'postgres') {
      throw new Error('this case needs PostgreSQL')
    }
    const { pool } = database.connection.postgres
    const rival = await pool.connect()
    try {
      // Another instance's creation, its grant written but not yet committed.
      await rival.query('BEGIN')
      await rival.query(
        `INSERT INTO workspaces (id, name, created_at) VALUES ('ws_rival', 'rival', $1)`,
        ['2030-01-01T00:00:00.000Z'],
      )
      await rival.query(
        `INSERT INTO credit_accounts (workspace_id, balance, updated_at) VALUES ('ws_rival', 50, $1)`,
        ['2030-01-01T00:00:00.000Z'],
      )
      await rival.query(
        `INSERT INTO credit_ledger (workspace_id, kind, delta, reference, created_at)
         VALUES ('ws_rival', 'grant', 50, 'ref', $1)`,
        ['2030-01-01T00:00:00.000Z'],
      )
      const repo = createPgWorkspacesRepository(pool)
      const ours = repo.createFunded(workspace('ws_ours'), { units: 50, reference: 'ref' })
      await waitForLockWait(pool)
      await rival.query('COMMIT')
      expect(await ours).toStrictEqual({
        id: 'ws_rival',
        name: 'rival',
        createdAt: '2030-01-01T00:00:00.000Z',
      })
      expect(await workspaceIds(database)).toEqual(['ws_rival'])
      expect(await creditsOf(database, 'ws_ours')).toEqual({ balance: undefined, grants: [] })
    } finally {
      rival.release()
    }
  })
})

/** Until some statement on this database waits for a lock (ours, on the rival's grant). */
async function waitForLockWait(pool: pg.Pool) {
  for (let waited = 0; waited < 5000; waited += 20) {
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    )
    if (Number(rows[0]?.n) > 0) {
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('the creation never waited on the rival grant')
}

describe('WorkspacesRepository rows are the same on every backend', () => {
  const opened: OpenBackend[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()))
  })

  it('answers the same rows from every method', async () => {
    const answers = []
    for (const backend of testBackends) {
      const database = await backend.open()
      opened.push(database)
      const repo = adapterOn(database.connection, workspacesOn)
      answers.push({
        created: await repo.createFunded(workspace('ws_01'), { units: 9, reference: 'a' }),
        replayed: await repo.createFunded(workspace('ws_02'), { units: 9, reference: 'a' }),
        unfunded: await repo.createFunded(workspace('ws_03'), { units: 0, reference: 'b' }),
        got: await repo.get('ws_03'),
        listed: await repo.list(),
        credits: await creditsOf(database, 'ws_01'),
      })
    }
    const [sqlite, ...others] = answers
    for (const other of others) {
      expect(other).toStrictEqual(sqlite)
    }
  })
})
