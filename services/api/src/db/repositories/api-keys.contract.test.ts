import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPgApiKeysRepository } from '../pg-repositories/api-keys.ts'
import type { ApiKeysRepository, NewApiKey } from '../ports.ts'
import type { ApiKeyRow } from '../schema/index.ts'
import { type Adapters, adapterOn, type OpenBackend, testBackends } from './testing/backends.ts'

const apiKeysOn: Adapters<ApiKeysRepository> = {
  sqlite: (store) => store.apiKeys,
  postgres: ({ pool }) => createPgApiKeysRepository(pool),
}

const CREATED = '2030-01-01T00:00:01.000Z'

function newKey(id: string, overrides: Partial<NewApiKey> = {}): NewApiKey {
  return {
    id,
    workspaceId: 'ws_a',
    keyHash: `hash_${id}`,
    displayPrefix: 'igk_live_ab',
    last4: id.slice(-4),
    scopes: ['generate', 'read'],
    createdAt: CREATED,
    ...overrides,
  }
}

/** Every column as the SQLite adapter answers it: absent optional columns are null. */
function storedKey(id: string, overrides: Partial<ApiKeyRow> = {}): ApiKeyRow {
  return {
    ...newKey(id),
    name: null,
    requestsPerMinute: null,
    imagesPerMinute: null,
    revokedAt: null,
    ...overrides,
  }
}

describe.each(testBackends)('ApiKeysRepository on $name', (backend) => {
  let database: OpenBackend
  let keys: ApiKeysRepository

  beforeEach(async () => {
    database = await backend.open()
    await database.addWorkspaces('ws_a', 'ws_b')
    keys = adapterOn(database.connection, apiKeysOn)
  })
  afterEach(async () => {
    await database.close()
  })

  it('answers an inserted key as stored, with every column, and finds it by id', async () => {
    const full = newKey('key_01', {
      name: 'ci',
      scopes: ['admin'],
      requestsPerMinute: 120,
      imagesPerMinute: 2_000_000_000,
    })
    const expected = storedKey('key_01', {
      name: 'ci',
      scopes: ['admin'],
      requestsPerMinute: 120,
      imagesPerMinute: 2_000_000_000,
    })
    expect(await keys.insert(full)).toStrictEqual(expected)
    expect(await keys.get('key_01')).toStrictEqual(expected)
    expect(await keys.insert(newKey('key_02'))).toStrictEqual(storedKey('key_02'))
    expect(await keys.get('key_02')).toStrictEqual(storedKey('key_02'))
    expect(await keys.get('key_missing')).toBeUndefined()
  })

  it('refuses a second key with the same hash', async () => {
    await keys.insert(newKey('key_01'))
    await expect(keys.insert(newKey('key_02', { keyHash: 'hash_key_01' }))).rejects.toThrow()
    expect(await keys.get('key_02')).toBeUndefined()
  })

  it('finds a live key by its hash, and no longer once it is revoked', async () => {
    await keys.insert(newKey('key_01'))
    await keys.insert(newKey('key_02'))
    expect(await keys.findActiveByHash('hash_key_02')).toStrictEqual(storedKey('key_02'))
    expect(await keys.findActiveByHash('hash_unknown')).toBeUndefined()
    await keys.revoke('key_02', '2030-01-02T00:00:00.000Z')
    expect(await keys.findActiveByHash('hash_key_02')).toBeUndefined()
    expect(await keys.findActiveByHash('hash_key_01')).toStrictEqual(storedKey('key_01'))
  })

  it('lists a workspace’s keys oldest first, revoked ones included, and no other’s', async () => {
    for (const id of ['key_03', 'key_01', 'key_02']) {
      await keys.insert(newKey(id))
    }
    await keys.insert(newKey('key_00', { workspaceId: 'ws_b' }))
    await keys.revoke('key_02', '2030-01-02T00:00:00.000Z')
    const listed = await keys.listByWorkspace('ws_a')
    expect(listed.map((key) => key.id)).toEqual(['key_01', 'key_02', 'key_03'])
    expect(listed[0]).toStrictEqual(storedKey('key_01'))
    expect(listed[1]?.revokedAt).toBe('2030-01-02T00:00:00.000Z')
    expect((await keys.listByWorkspace('ws_b')).map((key) => key.id)).toEqual(['key_00'])
    expect(await keys.listByWorkspace('ws_none')).toEqual([])
  })

  it('revokes once: a second revoke keeps the first time; an unknown id answers nothing', async () => {
    await keys.insert(newKey('key_01'))
    const first = '2030-01-02T00:00:00.000Z'
    expect(await keys.revoke('key_01', first)).toStrictEqual(
      storedKey('key_01', { revokedAt: first }),
    )
    expect(await keys.revoke('key_01', '2030-01-03T00:00:00.000Z')).toStrictEqual(
      storedKey('key_01', { revokedAt: first }),
    )
    expect((await keys.get('key_01'))?.revokedAt).toBe(first)
    expect(await keys.revoke('key_missing', first)).toBeUndefined()
  })

  it('counts live admin keys across workspaces, not revoked ones nor other scopes', async () => {
    expect(await keys.countActiveAdmins()).toBe(0)
    await keys.insert(newKey('key_01', { scopes: ['admin'] }))
    await keys.insert(newKey('key_02', { scopes: ['read', 'admin'], workspaceId: 'ws_b' }))
    await keys.insert(newKey('key_03', { scopes: ['generate', 'read'] }))
    await keys.insert(newKey('key_04', { scopes: [] }))
    await keys.insert(newKey('key_05', { scopes: ['admin'] }))
    expect(await keys.countActiveAdmins()).toBe(3)
    await keys.revoke('key_05', '2030-01-02T00:00:00.000Z')
    expect(await keys.countActiveAdmins()).toBe(2)
  })
})

describe('ApiKeysRepository rows are the same on every backend', () => {
  const opened: OpenBackend[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()))
  })

  it('answers the same row from every method for the same inserted key', async () => {
    const answers = []
    for (const backend of testBackends) {
      const database = await backend.open()
      opened.push(database)
      await database.addWorkspaces('ws_a')
      const keys = adapterOn(database.connection, apiKeysOn)
      const row = newKey('key_01', { name: 'nightly', scopes: ['admin', 'read'] })
      answers.push({
        inserted: await keys.insert(row),
        bare: await keys.insert(newKey('key_02')),
        got: await keys.get('key_01'),
        byHash: await keys.findActiveByHash('hash_key_01'),
        listed: await keys.listByWorkspace('ws_a'),
        revoked: await keys.revoke('key_02', '2030-01-05T10:00:00.500Z'),
        admins: await keys.countActiveAdmins(),
      })
    }
    const [sqlite, ...others] = answers
    for (const other of others) {
      expect(other).toStrictEqual(sqlite)
    }
  })
})
