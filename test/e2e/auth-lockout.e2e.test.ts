import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { generateApiKey } from '../../services/api/src/access/api-key-format.ts'
import { bearer, startServer, stop } from '../support/processes.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

/** The real server with the default lock-out (10 failed authentications a minute). */
async function server(env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-lockout-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const started = await startServer({ IMAGEGATE_DATA_DIR: path.join(dir, 'data'), ...env })
  cleanups.push(() => stop(started.child))
  return started
}

/** Junk of both kinds: a bad checksum (no lookup), and a well-formed key that names none. */
const junkKey = (index: number) =>
  index % 2 === 0 ? `igk_junk${index}` : generateApiKey((size) => randomBytes(size)).key

async function status(url: string, headers: Record<string, string>, init: RequestInit = {}) {
  const response = await fetch(url, { ...init, headers: { ...headers, ...init.headers } })
  await response.arrayBuffer()
  return response.status
}

async function newTenantKey(url: string, adminKey: string): Promise<string> {
  const response = await fetch(`${url}/v1/workspaces/default/keys`, {
    method: 'POST',
    headers: { ...bearer(adminKey), 'content-type': 'application/json' },
    body: JSON.stringify({ scopes: ['generate'] }),
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { key: string }).key
}

describe('the failed-authentication lock-out does not lock out good keys', () => {
  it('20 junk keys then valid keys from the same address: the valid keys get 200', async () => {
    const gw = await server()
    const models = `${gw.url}/v1/models`
    const statuses: number[] = []
    for (let index = 0; index < 20; index++) {
      statuses.push(await status(models, bearer(junkKey(index))))
    }
    expect(statuses).toEqual([...Array(10).fill(401), ...Array(10).fill(429)])
    expect(await status(models, bearer(gw.key))).toBe(200)
    // Another tenant's key from the same address, on a route that does real work.
    const tenant = await newTenantKey(gw.url, gw.key)
    const generation = await fetch(`${gw.url}/v1/images/generations`, {
      method: 'POST',
      headers: { ...bearer(tenant), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'local-sketch', prompt: 'a lighthouse', size: '256x256' }),
    })
    expect(generation.status).toBe(200)
    expect(generation.headers.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/)
    // Junk from the address is still throttled, and keeps its headers.
    const refused = await fetch(models, { headers: bearer(junkKey(21)) })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited')
  })

  it('ignores a spoofed X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const gw = await server()
    const models = `${gw.url}/v1/models`
    for (let index = 0; index < 10; index++) {
      // A fresh forged address on every attempt mints no fresh budget.
      const forged = { ...bearer(junkKey(index)), 'x-forwarded-for': `198.51.100.${index}` }
      expect(await status(models, forged)).toBe(401)
    }
    const elsewhere = { ...bearer(junkKey(10)), 'x-forwarded-for': '203.0.113.200' }
    expect(await status(models, elsewhere)).toBe(429)
  })

  it('with 127.0.0.1 trusted: the right-most untrusted X-Forwarded-For entry is throttled, not another', async () => {
    const gw = await server({ IMAGEGATE_TRUSTED_PROXIES: '127.0.0.1, ::1' })
    const models = `${gw.url}/v1/models`
    const from = (forwardedFor: string, key: string) => ({
      ...bearer(key),
      'x-forwarded-for': forwardedFor,
    })
    for (let index = 0; index < 10; index++) {
      // The client forges a different left-most entry each time; the proxy appended the truth.
      const forwarded = from(`192.0.2.${index}, 198.51.100.7`, junkKey(index))
      expect(await status(models, forwarded)).toBe(401)
    }
    expect(await status(models, from('198.51.100.7', junkKey(10)))).toBe(429)
    expect(await status(models, from('10.9.9.9, 198.51.100.7', junkKey(11)))).toBe(429)
    // A different client behind the same proxy is not throttled, nor is the proxy's own address.
    expect(await status(models, from('198.51.100.8', junkKey(12)))).toBe(401)
    expect(await status(models, bearer(junkKey(13)))).toBe(401)
    // And the throttled client's valid key is served.
    expect(await status(models, from('198.51.100.7', gw.key))).toBe(200)
  })
})
