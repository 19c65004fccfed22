import { randomBytes } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { generateApiKey } from '../../access/api-key-format.ts'
import { openDatabase } from '../../db/client.ts'
import { createSqliteStore } from '../../db/sqlite-store.ts'
import { createIdGenerator } from '../../ids.ts'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { createApiKeyService } from './api-keys.ts'
import { createCreditService } from './credits.ts'
import { createWorkspaceService } from './workspaces.ts'

async function setup() {
  const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'))
  const ids = createIdGenerator(clock)
  const store = createSqliteStore(openDatabase(':memory:'), { clock, newId: () => ids('rsv') })
  const credits = createCreditService(store.ledger)
  const workspaces = createWorkspaceService({ repo: store.workspaces, credits, ids, clock })
  const repo = store.apiKeys
  const lookups = vi.spyOn(repo, 'findActiveByHash')
  const apiKeys = createApiKeyService({
    repo,
    workspaces,
    ids,
    clock,
    randomBytes: (size) => randomBytes(size),
    defaultKeyLimits: { requestsPerMinute: 60, imagesPerMinute: 30 },
    workspaceLimits: { requestsPerMinute: 600, imagesPerMinute: 300 },
    cacheTtlMs: 60_000,
  })
  const ws = (await workspaces.create({ name: 'Keys', initialCredits: 0 }, 'req_1')).id
  return { apiKeys, lookups, clock, ws }
}

describe('API key service', () => {
  it('looks a key up once, then from the cache until the TTL passes', async () => {
    const { apiKeys, lookups, clock, ws } = await setup()
    const { key } = await apiKeys.create(ws, { scopes: ['read'] })
    for (let index = 0; index < 5; index++) {
      expect((await apiKeys.authenticate(`Bearer ${key}`))?.workspaceId).toBe(ws)
    }
    expect(lookups).toHaveBeenCalledTimes(1)
    clock.advance(60_001)
    await apiKeys.authenticate(`Bearer ${key}`)
    expect(lookups).toHaveBeenCalledTimes(2)
  })

  it('refuses bad checksums and other shapes without a lookup; unknown keys with one', async () => {
    const { apiKeys, lookups, ws } = await setup()
    const { key } = await apiKeys.create(ws, { scopes: ['read'] })
    for (const header of [
      undefined,
      '',
      'Bearer',
      `Basic ${key}`,
      `Bearer ${key.slice(0, -1)}x`,
      `Bearer ${key}0`,
      'Bearer igk_short',
    ]) {
      expect(await apiKeys.authenticate(header)).toBeUndefined()
    }
    expect(lookups).not.toHaveBeenCalled()
    expect(
      await apiKeys.authenticate(`Bearer ${generateApiKey((n) => randomBytes(n)).key}`),
    ).toBeUndefined()
    expect(lookups).toHaveBeenCalledTimes(1)
  })

  it('forgets a revoked key at once, cache or not', async () => {
    const { apiKeys, ws } = await setup()
    const { key, info } = await apiKeys.create(ws, { scopes: ['generate'] })
    expect(await apiKeys.authenticate(`Bearer ${key}`)).toBeDefined()
    await apiKeys.revoke(info.id)
    expect(await apiKeys.authenticate(`Bearer ${key}`)).toBeUndefined()
  })

  it('applies default limits to omitted fields; null switches a limit off', async () => {
    const { apiKeys, ws } = await setup()
    const { key, info } = await apiKeys.create(ws, {
      scopes: ['generate'],
      rateLimits: { imagesPerMinute: null },
    })
    expect(info.rateLimits).toEqual({ requestsPerMinute: 60, imagesPerMinute: null })
    expect((await apiKeys.authenticate(`Bearer ${key}`))?.limits).toEqual({
      keyId: info.id,
      workspaceId: ws,
      keyLimits: { requestsPerMinute: 60, imagesPerMinute: null },
      workspaceLimits: { requestsPerMinute: 600, imagesPerMinute: 300 },
    })
  })
})
