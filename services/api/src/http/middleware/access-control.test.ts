import { randomBytes } from 'node:crypto'
import type Sqlite from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateApiKey } from '../../access/api-key-format.ts'
import { parseSfList } from '../../access/testing/structured-fields.ts'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { type AccessTestApp, createAccessTestApp } from '../../testing/access.ts'

let t: AccessTestApp
afterEach(async () => {
  vi.restoreAllMocks()
  await t.close()
})

type ErrorJson = { error: { code: string; message: string; requestId: string } }
const errorOf = async (response: Response) => ((await response.json()) as ErrorJson).error

/** A request from a given client address, as @hono/node-server hands it to the app. */
const fromAddress = (address: string) => ({ incoming: { socket: { remoteAddress: address } } })

describe('public and protected routes', () => {
  it('answers /healthz, /readyz, /openapi.json and /docs without a key', async () => {
    t = await createAccessTestApp()
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs']) {
      expect({ path, status: (await t.hono.request(path)).status }).toEqual({ path, status: 200 })
    }
  })

  it('needs a key on every /v1 route, unknown ones included, and an admin key for /metrics', async () => {
    t = await createAccessTestApp()
    for (const [method, path] of [
      ['GET', '/v1/models'],
      ['GET', '/v1/assets'],
      ['POST', '/v1/images/generations'],
      ['GET', '/v1/workspaces'],
      ['GET', '/v1/nothing-here'],
      ['GET', '/metrics'],
    ] as const) {
      const response = await t.hono.request(path, { method })
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 })
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="imagegate"')
    }
    expect((await t.call('GET', '/v1/nothing-here')).status).toBe(404)
    expect((await t.call('GET', '/metrics')).status).toBe(200)
  })

  it('lets read keys read and refuses them what creates or charges (403 insufficient_scope)', async () => {
    t = await createAccessTestApp()
    const read = await t.newKey('default', ['read'])
    expect((await t.call('GET', '/v1/assets', { key: read })).status).toBe(200)
    const refused = await t.call('POST', '/v1/images/generations', {
      key: read,
      body: { prompt: 'no', model: 'local-sketch' },
    })
    expect(refused.status).toBe(403)
    expect(await errorOf(refused)).toMatchObject({ code: 'insufficient_scope' })
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect(t.paid.calls).toHaveLength(0)
  })

  it('accepts the scheme in any case and refuses other schemes', async () => {
    t = await createAccessTestApp()
    for (const [authorization, status] of [
      [`bearer ${t.key}`, 200],
      [`BEARER ${t.key}`, 200],
      [`Basic ${t.key}`, 401],
      [t.key, 401],
      [`Bearer ${t.key} extra`, 401],
    ] as const) {
      const response = await t.hono.request('/v1/models', { headers: { authorization } })
      expect({ authorization, status: response.status }).toEqual({ authorization, status })
    }
  })
})

describe('S7: keys', () => {
  it('keeps no raw key anywhere in the database', async () => {
    t = await createAccessTestApp()
    const keys = [t.key]
    for (const scopes of [['admin'], ['generate'], ['read']]) {
      keys.push(await t.newKey('default', scopes))
    }
    // Not even an Idempotency-Key makes the server keep the answer that holds a key.
    const keyed = await t.call('POST', '/v1/workspaces/default/keys', {
      body: { scopes: ['read'] },
      headers: { 'idempotency-key': 'key-once' },
    })
    keys.push(((await keyed.json()) as { key: string }).key)
    const dump = t.sqlite.serialize()
    for (const key of keys) {
      expect(dump.includes(Buffer.from(key))).toBe(false)
      // Nor the random part alone, in case something stored it without the prefix.
      expect(dump.includes(Buffer.from(key.slice(4, 40)))).toBe(false)
    }
  })

  it('answers 1,000 random wrong keys with the same 401 body', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '1000000' } })
    const wrong = Array.from({ length: 1000 }, (_, index) => {
      switch (index % 4) {
        case 0:
          return generateApiKey((size) => randomBytes(size)).key // well-formed, unknown
        case 1:
          return `igk_${randomBytes(40).toString('base64url').replace(/[-_]/g, 'x').slice(0, 49)}`
        case 2:
          return randomBytes(24).toString('hex')
        default:
          return `${t.key.slice(0, -1)}${t.key.endsWith('A') ? 'B' : 'A'}` // one character off
      }
    })
    const seen = new Set<string>()
    for (const key of wrong) {
      const response = await t.hono.request('/v1/assets', {
        headers: { authorization: `Bearer ${key}` },
      })
      expect(response.status).toBe(401)
      const { error } = (await response.json()) as ErrorJson
      seen.add(JSON.stringify({ ...error, requestId: undefined }))
      seen.add(`www-authenticate: ${response.headers.get('www-authenticate')}`)
    }
    expect([...seen]).toEqual([
      JSON.stringify({
        type: 'authentication_error',
        code: 'unauthorized',
        message: 'Missing or invalid API key',
      }),
      'www-authenticate: Bearer realm="imagegate"',
    ])
  })

  it('refuses a key with a bad checksum without reading the database', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '1000000' } })
    // Every statement of better-sqlite3 shares one prototype: count every read.
    const statement = t.sqlite.prepare('SELECT 1')
    const prototype = Object.getPrototypeOf(statement) as Sqlite.Statement
    const reads = vi.spyOn(prototype, 'get')
    const badChecksum = `${t.key.slice(0, -6)}000000`
    expect((await t.call('GET', '/v1/models', { key: badChecksum })).status).toBe(401)
    expect(reads).not.toHaveBeenCalled()
    const unknown = generateApiKey((size) => randomBytes(size)).key
    expect((await t.call('GET', '/v1/models', { key: unknown })).status).toBe(401)
    expect(reads).toHaveBeenCalled()
  })
})

describe('S8: failed authentications per address', () => {
  it('throttles an address after N failures (429), others unaffected', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '5' } })
    const attacker = fromAddress('203.0.113.7')
    const wrong = { headers: { authorization: 'Bearer igk_wrong' } }
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await t.hono.request('/v1/models', wrong, attacker)).status).toBe(401)
    }
    const locked = await t.hono.request('/v1/models', wrong, attacker)
    expect(locked.status).toBe(429)
    expect(await errorOf(locked)).toMatchObject({ code: 'rate_limited' })
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // A well-formed key that names no key is junk too, and so is no key at all.
    const unknown = generateApiKey((size) => randomBytes(size)).key
    const guessed = { headers: { authorization: `Bearer ${unknown}` } }
    expect((await t.hono.request('/v1/models', guessed, attacker)).status).toBe(429)
    expect((await t.hono.request('/v1/models', {}, attacker)).status).toBe(429)
    // Another address is not throttled.
    expect((await t.hono.request('/v1/models', wrong, fromAddress('198.51.100.1'))).status).toBe(
      401,
    )
  })

  it('serves a valid key from a throttled address, counted against its own limits', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '10' } })
    const shared = fromAddress('203.0.113.7')
    const junk = { headers: { authorization: 'Bearer igk_junk' } }
    const statuses: number[] = []
    for (let attempt = 0; attempt < 20; attempt++) {
      statuses.push((await t.hono.request('/v1/models', junk, shared)).status)
    }
    expect(statuses).toEqual([...Array(10).fill(401), ...Array(10).fill(429)])
    const tenant = await t.newKey('default', ['read'], { requestsPerMinute: 2 })
    const good = { headers: { authorization: `Bearer ${tenant}` } }
    const served = await t.hono.request('/v1/models', good, shared)
    expect(served.status).toBe(200)
    expect(served.headers.get('x-ratelimit-remaining-requests')).toBe('1')
    expect((await t.hono.request('/v1/models', good, shared)).status).toBe(200)
    // Its own limit, not the address's: the third request a minute is over the key's two.
    const limited = await t.hono.request('/v1/models', good, shared)
    expect(limited.status).toBe(429)
    expect(await errorOf(limited)).toMatchObject({ message: 'Rate limit exceeded: key-requests' })
    // Junk from the address is still throttled.
    expect((await t.hono.request('/v1/models', junk, shared)).status).toBe(429)
  })

  it('counts IPv6 addresses per /64', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '3' } })
    const wrong = { headers: { authorization: 'Bearer nope' } }
    for (const host of ['1', '2', '3']) {
      await t.hono.request('/v1/models', wrong, fromAddress(`2001:db8:1:2::${host}`))
    }
    expect(
      (await t.hono.request('/v1/models', wrong, fromAddress('2001:db8:1:2::99'))).status,
    ).toBe(429)
    expect((await t.hono.request('/v1/models', wrong, fromAddress('2001:db8:1:3::1'))).status).toBe(
      401,
    )
  })
})

describe('the client address behind proxies (IMAGEGATE_TRUSTED_PROXIES)', () => {
  const guessFrom = (peer: string, forwardedFor: string) =>
    t.hono.request(
      '/v1/models',
      { headers: { authorization: 'Bearer igk_guess', 'x-forwarded-for': forwardedFor } },
      fromAddress(peer),
    )

  it('ignores X-Forwarded-For when no proxy is trusted: the peer is throttled', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '3' } })
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await guessFrom('203.0.113.7', `198.51.100.${attempt}`)).status).toBe(401)
    }
    expect((await guessFrom('203.0.113.7', '198.51.100.99')).status).toBe(429)
  })

  it('counts failures against the right-most untrusted X-Forwarded-For entry of a trusted peer', async () => {
    t = await createAccessTestApp({
      env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '3', IMAGEGATE_TRUSTED_PROXIES: '10.0.0.0/8' },
    })
    // A client behind the proxy forges an entry on the left each time: it does not count.
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await guessFrom('10.0.0.2', `192.0.2.${attempt}, 198.51.100.1`)).status).toBe(401)
    }
    expect((await guessFrom('10.0.0.3', '192.0.2.50, 198.51.100.1, 10.0.0.9')).status).toBe(429)
    // Another client behind the same proxy is not throttled, nor is the proxy itself.
    expect((await guessFrom('10.0.0.2', '198.51.100.2')).status).toBe(401)
    expect((await guessFrom('10.0.0.2', 'unknown')).status).toBe(401)
    // An untrusted peer's header is not read: it is throttled as itself.
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await guessFrom('203.0.113.7', '198.51.100.3')).status).toBe(401)
    }
    expect((await guessFrom('203.0.113.7', '198.51.100.4')).status).toBe(429)
    expect((await guessFrom('10.0.0.2', '198.51.100.3')).status).toBe(401)
  })
})

describe('rate limits', () => {
  const policy = (response: Response, name: string) =>
    parseSfList(response.headers.get('ratelimit') ?? '').find((member) => member.value === name)

  it('R1: q=10 w=60, 15 back-to-back requests → 10 pass, 5 × 429 with Retry-After', async () => {
    t = await createAccessTestApp()
    const key = await t.newKey('default', ['read'], { requestsPerMinute: 10 })
    const responses = []
    for (let index = 0; index < 15; index++) {
      responses.push(await t.call('GET', '/v1/models', { key }))
    }
    expect(responses.map((response) => response.status)).toEqual([
      ...Array(10).fill(200),
      ...Array(5).fill(429),
    ])
    const remaining = responses.slice(0, 10).map((response) => policy(response, 'key-requests'))
    expect(remaining.map((member) => member?.params.r)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    const policies = parseSfList(responses[0]?.headers.get('ratelimit-policy') ?? '')
    expect(policies.find((member) => member.value === 'key-requests')?.params).toEqual({
      q: 10,
      w: 60,
    })
    expect(responses[0]?.headers.get('x-ratelimit-limit-requests')).toBe('10')
    expect(responses[0]?.headers.get('x-ratelimit-remaining-requests')).toBe('9')
    for (const refused of responses.slice(10)) {
      const retryAfter = refused.headers.get('retry-after') ?? ''
      expect(retryAfter).toMatch(/^[1-9][0-9]*$/)
      expect(Number(refused.headers.get('retry-after-ms'))).toBeGreaterThan(0)
      expect(refused.headers.get('x-should-retry')).toBe('true')
      expect(policy(refused, 'key-requests')?.params.r).toBe(0)
      expect(await errorOf(refused)).toMatchObject({ code: 'rate_limited' })
    }
  })

  it('R2: after exactly w/q seconds, exactly one more request passes', async () => {
    const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'))
    t = await createAccessTestApp({ clock })
    const key = await t.newKey('default', ['read'], { requestsPerMinute: 10 })
    for (let index = 0; index < 10; index++) {
      expect((await t.call('GET', '/v1/models', { key })).status).toBe(200)
    }
    expect((await t.call('GET', '/v1/models', { key })).status).toBe(429)
    clock.advance(5_999)
    expect((await t.call('GET', '/v1/models', { key })).status).toBe(429)
    clock.advance(1)
    expect((await t.call('GET', '/v1/models', { key })).status).toBe(200)
    expect((await t.call('GET', '/v1/models', { key })).status).toBe(429)
  })

  it('R4: exhausting key A leaves key B untouched; the workspace limit binds both', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_WORKSPACE_REQUESTS_PER_MINUTE: '8' } })
    const ws = await t.newWorkspace('Shared')
    const a = await t.newKey(ws, ['read'], { requestsPerMinute: 3 })
    const b = await t.newKey(ws, ['read'], { requestsPerMinute: 100 })
    for (let index = 0; index < 3; index++) {
      expect((await t.call('GET', '/v1/models', { key: a })).status).toBe(200)
    }
    expect((await t.call('GET', '/v1/models', { key: a })).status).toBe(429)
    const first = await t.call('GET', '/v1/models', { key: b })
    expect(policy(first, 'key-requests')?.params.r).toBe(99)
    expect(policy(first, 'workspace-requests')?.params.r).toBe(4)
    for (let index = 0; index < 4; index++) {
      expect((await t.call('GET', '/v1/models', { key: b })).status).toBe(200)
    }
    const refused = await t.call('GET', '/v1/models', { key: b })
    expect(refused.status).toBe(429)
    expect((await errorOf(refused)).message).toContain('workspace-requests')
    // Another workspace has its own budget.
    expect((await t.call('GET', '/v1/models')).status).toBe(200)
  })

  it('limits images per minute: n counts n, more than the burst is never retryable', async () => {
    t = await createAccessTestApp()
    const key = await t.newKey('default', ['generate'], { imagesPerMinute: 3 })
    const generate = (n: number) =>
      t.call('POST', '/v1/images/generations', {
        key,
        body: { model: 'local-sketch', prompt: 'count me', size: '256x256', n },
      })
    const first = await generate(2)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-ratelimit-limit-images')).toBe('3')
    expect(first.headers.get('x-ratelimit-remaining-images')).toBe('1')
    expect(first.headers.get('x-ratelimit-limit-requests')).toBeTruthy()
    const second = await generate(2)
    expect(second.status).toBe(429)
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await errorOf(second)).message).toContain('key-images')
    const tooMany = await generate(4)
    expect(tooMany.status).toBe(429)
    expect(tooMany.headers.get('retry-after')).toBeNull()
    expect(tooMany.headers.get('x-should-retry')).toBe('false')
  })

  it('R5: refused requests (401, 403, 429) cost nothing: no upstream call, no ledger row', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '1000000' } })
    const ws = await t.newWorkspace('Refused', 100)
    const key = await t.newKey(ws, ['generate'], { requestsPerMinute: 1, imagesPerMinute: 1 })
    const read = await t.newKey(ws, ['read'])
    const rowsBefore = t.sqlite.prepare('SELECT COUNT(*) AS n FROM credit_ledger').get()
    const body = { model: 'gpt-image-1', prompt: 'refused', size: '1024x1024', n: 2 }
    const statuses = [
      (await t.call('POST', '/v1/images/generations', { key: 'igk_nope', body })).status,
      (await t.call('POST', '/v1/images/generations', { key: read, body })).status,
      (await t.call('POST', '/v1/images/generations', { key, body })).status, // 2 images > 1
      (await t.call('POST', '/v1/images/generations', { key, body })).status, // 1 request/min
    ]
    expect(statuses).toEqual([401, 403, 429, 429])
    expect(t.paid.calls).toHaveLength(0)
    expect(t.sqlite.prepare('SELECT COUNT(*) AS n FROM credit_ledger').get()).toEqual(rowsBefore)
    expect(await t.balance(ws)).toBe(100)
  })
})
