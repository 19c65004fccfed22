import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../access/api-key-format.ts'
import { loadConfig } from '../../config.ts'
import { sqliteStoreOf } from '../../db/sqlite-store.ts'
import { type AppDeps, createDeps } from '../../deps.ts'

const dirs: string[] = []
const opened: AppDeps[] = []
afterEach(async () => {
  for (const deps of opened.splice(0)) {
    await deps.close()
  }
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true })
  }
})

async function start(dataDir: string, env: Record<string, string> = {}) {
  const deps = await createDeps(loadConfig({ IMAGEGATE_DATA_DIR: dataDir, ...env }), {
    log: pino({ level: 'silent' }),
  })
  opened.push(deps)
  return deps
}

function dataDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-bootstrap-'))
  dirs.push(dir)
  return dir
}

describe('bootstrap', () => {
  it('creates workspace default with 1,000 credits and an admin key in a 0600 file', async () => {
    const dir = dataDir()
    const deps = await start(dir)
    const made = deps.bootstrap
    expect(made).toMatchObject({ workspaceId: 'default', file: path.join(dir, 'bootstrap-key') })
    const file = path.join(dir, 'bootstrap-key')
    expect(readFileSync(file, 'utf8')).toBe(`${made?.key}\n`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(await deps.credits.balance('default')).toBe(1000)
    const principal = await deps.apiKeys.authenticate(`Bearer ${made?.key}`)
    expect(principal).toMatchObject({ workspaceId: 'default', scopes: ['admin'] })
    // Only the hash is in the database file.
    sqliteStoreOf(deps.store).database.durable.pragma('wal_checkpoint(TRUNCATE)')
    const db = readFileSync(path.join(dir, 'imagegate.db'))
    expect(db.includes(Buffer.from(made?.key ?? 'x'))).toBe(false)
    expect(db.includes(Buffer.from(hashApiKey(made?.key ?? '')))).toBe(true)
  })

  it('does nothing on later starts; a start with no live admin key mints a new one, no credits', async () => {
    const dir = dataDir()
    const first = await start(dir, { IMAGEGATE_BOOTSTRAP_CREDITS: '50' })
    const key = first.bootstrap?.key ?? ''
    await first.close()
    opened.splice(0)

    const second = await start(dir, { IMAGEGATE_BOOTSTRAP_CREDITS: '50' })
    expect(second.bootstrap).toBeUndefined()
    expect(readFileSync(path.join(dir, 'bootstrap-key'), 'utf8').trim()).toBe(key)
    const [admin] = await second.apiKeys.list('default')
    await second.apiKeys.revoke(admin?.id ?? '')
    expect(await second.apiKeys.authenticate(`Bearer ${key}`)).toBeUndefined()
    await second.close()
    opened.splice(0)

    const third = await start(dir, { IMAGEGATE_BOOTSTRAP_CREDITS: '50' })
    const fresh = third.bootstrap?.key ?? ''
    expect(fresh).not.toBe(key)
    expect(readFileSync(path.join(dir, 'bootstrap-key'), 'utf8').trim()).toBe(fresh)
    expect(await third.apiKeys.authenticate(`Bearer ${fresh}`)).toBeDefined()
    expect(await third.credits.balance('default')).toBe(50)
  })

  it('grants nothing when IMAGEGATE_BOOTSTRAP_CREDITS is 0', async () => {
    const deps = await start(dataDir(), { IMAGEGATE_BOOTSTRAP_CREDITS: '0' })
    expect(await deps.credits.balance('default')).toBe(0)
  })

  it('makes IMAGEGATE_BOOTSTRAP_ADMIN_KEY the admin key, and writes no file', async () => {
    const { key } = generateApiKey((size) => randomBytes(size))
    const dir = dataDir()
    const deps = await start(dir, { IMAGEGATE_BOOTSTRAP_ADMIN_KEY: key })
    expect(deps.bootstrap).toEqual({ key, file: undefined, workspaceId: 'default' })
    expect(existsSync(path.join(dir, 'bootstrap-key'))).toBe(false)
    expect(await deps.apiKeys.authenticate(`Bearer ${key}`)).toMatchObject({
      workspaceId: 'default',
      scopes: ['admin'],
    })
    expect(await deps.credits.balance('default')).toBe(1000)
  })

  it('does not bring the operator key back once it was revoked', async () => {
    const { key } = generateApiKey((size) => randomBytes(size))
    const dir = dataDir()
    const first = await start(dir, { IMAGEGATE_BOOTSTRAP_ADMIN_KEY: key })
    const [admin] = await first.apiKeys.list('default')
    await first.apiKeys.revoke(admin?.id ?? '')
    await first.close()
    opened.splice(0)
    await expect(start(dir, { IMAGEGATE_BOOTSTRAP_ADMIN_KEY: key })).rejects.toThrow(
      'IMAGEGATE_BOOTSTRAP_ADMIN_KEY names a key that was revoked; choose a new one (pnpm new-key)',
    )
  })
})
