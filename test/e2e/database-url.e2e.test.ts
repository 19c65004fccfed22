import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { repoRoot } from '../support/processes.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true })
  }
})

it('a PostgreSQL URL stops the start with one message instead of running on SQLite', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-dburl-'))
  dirs.push(dir)
  const dataDir = path.join(dir, 'data')
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'services/api/src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: '0',
      IMAGEGATE_DATA_DIR: dataDir,
      IMAGEGATE_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/imagegate',
      IMAGEGATE_URL_SIGNING_SECRET: 'q7Vx2LpR9sKdE3wYhJ6cGuZt1oXiA5qWnB0e9Zk3PfT',
    },
    encoding: 'utf8',
    timeout: 30_000,
  })
  expect(run.status).toBe(2)
  expect(run.stderr).toContain(
    'imagegate: IMAGEGATE_DATABASE_URL: metadata in PostgreSQL is not available',
  )
  expect(existsSync(dataDir)).toBe(false)
})
