import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { generateApiKey } from '../../services/api/src/access/api-key-format.ts'
import {
  createTestDatabase,
  queryDatabase,
  type TestDatabase,
} from '../../services/api/src/testing/postgres.ts'
import { bearer, freePort, repoRoot, startServer, stop } from '../support/processes.ts'

const SECRET = 'q7Vx2LpR9sKdE3wYhJ6cGuZt1oXiA5qWnB0e9Zk3PfT'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true })
  }
})

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database?.drop()
})

function tempDataDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-dburl-'))
  dirs.push(dir)
  return path.join(dir, 'data')
}

it('an unreachable PostgreSQL stops the start with one message, before the data dir is made', async () => {
  const dataDir = tempDataDir()
  const port = await freePort()
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'services/api/src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: '0',
      IMAGEGATE_DATA_DIR: dataDir,
      IMAGEGATE_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/imagegate`,
      IMAGEGATE_URL_SIGNING_SECRET: SECRET,
    },
    encoding: 'utf8',
    timeout: 30_000,
  })
  expect(run.status).toBe(2)
  expect(run.stderr.trim().split('\n')).toEqual([
    `imagegate: IMAGEGATE_DATABASE_URL: connect ECONNREFUSED 127.0.0.1:${port}`,
  ])
  expect(existsSync(dataDir)).toBe(false)
})

it('with a PostgreSQL URL the metadata lives in that database, not in the data dir', async () => {
  const dataDir = tempDataDir()
  const adminKey = generateApiKey((size) => randomBytes(size)).key
  const server = await startServer({
    IMAGEGATE_DATA_DIR: dataDir,
    IMAGEGATE_DATABASE_URL: database.url,
    IMAGEGATE_URL_SIGNING_SECRET: SECRET,
    IMAGEGATE_BOOTSTRAP_ADMIN_KEY: adminKey,
  })
  try {
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    const created = await fetch(`${server.url}/v1/workspaces`, {
      method: 'POST',
      headers: { ...bearer(adminKey), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'in postgres' }),
    })
    expect(created.status).toBe(201)
    const workspace = (await created.json()) as { id: string }

    expect(
      await queryDatabase(database.url, 'SELECT id, name FROM workspaces ORDER BY created_at'),
    ).toEqual([
      { id: 'default', name: expect.any(String) },
      { id: workspace.id, name: 'in postgres' },
    ])
    expect(existsSync(path.join(dataDir, 'imagegate.db'))).toBe(false)
  } finally {
    await stop(server.child)
  }
})
