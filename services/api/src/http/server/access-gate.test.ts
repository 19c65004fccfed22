import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { uploadRequest } from '../../testing/assets.ts'
import { noisePng } from '../../testing/images.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'
import { serveImagegate } from './serve.ts'

/**
 * The gate answers refusals before Hono (http/server/access-gate.ts). These tests run the same
 * requests against two servers built alike, one through serveImagegate (gate in front) and one
 * through plain @hono/node-server (the access middleware decides everything), and require the
 * same answers, metrics and access lines; then what only the gate does: hand its decision on
 * without counting a request twice, and drop a refused request's body.
 */

const frozen = { now: () => new Date('2026-11-21T12:00:00Z') }
const ENV = {
  IMAGEGATE_AUTH_FAILURES_PER_MINUTE: '4',
}

/** `honoSaw`: the requests that reached Hono, as `METHOD path`. */
type Served = { t: TestApp; base: string; honoSaw: string[]; close(): Promise<void> }
const opened: Served[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((served) => served.close()))
})

function listening(server: ServerType, t: TestApp, honoSaw: string[] = []): Promise<Served> {
  return new Promise((resolve) => {
    const ready = () => {
      const { port } = server.address() as AddressInfo
      const served: Served = {
        t,
        base: `http://127.0.0.1:${port}`,
        honoSaw,
        close: async () => {
          await new Promise<void>((done) => server.close(() => done()))
          await t.close()
        },
      }
      opened.push(served)
      resolve(served)
    }
    if (server.listening) {
      ready()
    } else {
      server.once('listening', ready)
    }
  })
}

async function gatedServer(env: Record<string, string> = ENV): Promise<Served> {
  const t = await createTestApp({ env, clock: frozen })
  const honoSaw: string[] = []
  const app = {
    fetch: (request: Request, env: object) => {
      honoSaw.push(`${request.method} ${new URL(request.url).pathname}`)
      return t.hono.fetch(request, env)
    },
  }
  const server = serveImagegate(app, t.deps, { port: 0, hostname: '127.0.0.1' })
  return listening(server, t, honoSaw)
}

async function plainServer(env: Record<string, string> = ENV): Promise<Served> {
  const t = await createTestApp({ env, clock: frozen })
  const server = serve({ fetch: t.hono.fetch, port: 0, hostname: '127.0.0.1' })
  return listening(server, t)
}

async function createKey(served: Served, body: unknown): Promise<string> {
  const res = await fetch(`${served.base}/v1/workspaces/default/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${served.t.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as { key: string }).key
}

type Answer = { status: number; headers: Record<string, string>; body: unknown }

/** An answer with what differs by nature between two servers (request ids, dates) taken out. */
async function normalized(res: Response): Promise<Answer> {
  const headers = Object.fromEntries(res.headers)
  const bytes = Buffer.from(await res.arrayBuffer())
  const json = headers['content-type']?.startsWith('application/json') === true
  const body: unknown =
    bytes.length === 0 ? '' : json ? JSON.parse(bytes.toString()) : `${bytes.length} bytes`
  const requestId = headers['x-request-id']
  expect(requestId).toMatch(/^req_/)
  const error = (body as { error?: { requestId?: string } }).error
  if (error?.requestId !== undefined) {
    expect(error.requestId).toBe(requestId)
    error.requestId = '<request id>'
  }
  delete headers['x-request-id']
  delete headers.date
  return { status: res.status, headers, body }
}

/** Every kind of refusal and an admitted request, in an order that ends in a lock-out. */
async function script(served: Served): Promise<Answer[]> {
  const readKey = await createKey(served, { scopes: ['read'] })
  const limitedKey = await createKey(served, {
    scopes: ['read'],
    rateLimits: { requestsPerMinute: 1 },
  })
  const badChecksum = `${served.t.key.slice(0, -6)}000000`
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
  const send = async (path: string, init: RequestInit = {}) =>
    normalized(await fetch(`${served.base}${path}`, init))
  return [
    await send('/v1/models', { headers: bearer(served.t.key) }),
    await send('/v1/models?limit=1', { headers: bearer(readKey) }),
    await send('/v1/workspaces', { headers: bearer(readKey) }),
    await send('/v1/assets/ast_missing', { headers: bearer(readKey) }),
    await send('/v1/assets', {
      method: 'POST',
      headers: { ...bearer(readKey), 'content-type': 'application/json' },
      body: '{}',
    }),
    await send('/v1/assets/ast_missing', { headers: bearer(limitedKey) }),
    await send('/v1/assets/ast_missing', { headers: bearer(limitedKey) }),
    await send('/v1/assets/ast_missing/content', { method: 'HEAD', headers: bearer(limitedKey) }),
    await send('/v1/models'),
    await send('/v1/assets/ast_missing', { headers: bearer(badChecksum) }),
    await send('/v1/skills/image-generate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lighthouse' }),
    }),
    await send('/v1/assets/ast_missing/content', { method: 'HEAD' }),
    // Four failures spent the address's budget of four a minute: throttled from here on, for
    // requests without a usable key; a valid key is still served.
    await send('/v1/generations', { headers: { authorization: 'Bearer igk_guess' } }),
    await send('/v1/generations', { headers: bearer(served.t.key) }),
    // No proxy is trusted: a forwarded-for address changes nothing.
    await send('/v1/generations', {
      headers: { authorization: 'Bearer igk_guess', 'x-forwarded-for': '198.51.100.7' },
    }),
    await send('/v1/skills/image-generate', { method: 'POST', body: '{}' }),
  ]
}

function requestCounts(served: Served): Promise<string[]> {
  return served.t.deps.metrics.registry
    .getSingleMetricAsString('imagegate_http_requests_total')
    .then((text) => text.split('\n').filter((line) => line.startsWith('imagegate_http_requests')))
}

function accessLines(served: Served) {
  return served.t.logLines
    .filter((line) => line.msg === 'request')
    .map(({ method, path, status, requestId }) => {
      expect(requestId).toMatch(/^req_/)
      // Asset ids differ between two servers; the rest of the path may not.
      return { method, path: String(path).replace(/\/ast_\w+/, '/<asset>'), status }
    })
}

describe('refusals before Hono', () => {
  it('answer exactly as the access middleware does, with the same metrics and access lines', async () => {
    const [gated, plain] = await Promise.all([gatedServer(), plainServer()])
    const viaGate = await script(gated)
    const viaHono = await script(plain)
    expect(viaGate.map((answer) => answer.status)).toEqual([
      200, 200, 403, 404, 403, 404, 429, 429, 401, 401, 401, 401, 429, 200, 429, 429,
    ])
    expect(viaGate).toEqual(viaHono)
    // Only the admitted requests (two keys made, then five reads) ever reached Hono.
    expect(gated.honoSaw).toEqual([
      'POST /v1/workspaces/default/keys',
      'POST /v1/workspaces/default/keys',
      'GET /v1/models',
      'GET /v1/models',
      'GET /v1/assets/ast_missing',
      'GET /v1/assets/ast_missing',
      'GET /v1/generations',
    ])
    expect(viaGate.at(-1)).toMatchObject({ body: { ok: false, error: { code: 'rate_limited' } } })
    expect(await requestCounts(gated)).toEqual(await requestCounts(plain))
    expect(await requestCounts(gated)).toContain(
      'imagegate_http_requests_total{method="GET",route="/v1/assets/:id",status="429"} 1',
    )
    expect(accessLines(gated)).toEqual(accessLines(plain))
  })

  it('keeps the caller’s request id on a refusal, and makes one for an unusable id', async () => {
    const gated = await gatedServer()
    const given = await fetch(`${gated.base}/v1/models`, { headers: { 'x-request-id': 'trace-7' } })
    expect(given.headers.get('x-request-id')).toBe('trace-7')
    expect(((await given.json()) as { error: { requestId: string } }).error.requestId).toBe(
      'trace-7',
    )
    const odd = await fetch(`${gated.base}/v1/models`, { headers: { 'x-request-id': 'a b' } })
    expect(odd.headers.get('x-request-id')).toMatch(/^req_/)
    await odd.arrayBuffer()
  })

  it('counts an admitted request against its key once', async () => {
    const gated = await gatedServer()
    const key = await createKey(gated, { scopes: ['read'], rateLimits: { requestsPerMinute: 3 } })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gated.base}/v1/assets`, {
        headers: { authorization: `Bearer ${key}` },
      })
      statuses.push(res.status)
      if (i === 0) {
        expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('2')
      }
      await res.arrayBuffer()
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
  })

  it('throttles the forwarded client of a trusted proxy, as the access middleware does', async () => {
    const env = { ...ENV, IMAGEGATE_TRUSTED_PROXIES: '127.0.0.1' }
    const [gated, plain] = await Promise.all([gatedServer(env), plainServer(env)])
    const guesses = async (served: Served) => {
      const guess = async (forwardedFor: string) =>
        normalized(
          await fetch(`${served.base}/v1/models`, {
            headers: { authorization: 'Bearer igk_guess', 'x-forwarded-for': forwardedFor },
          }),
        )
      const answers: Answer[] = []
      for (let attempt = 0; attempt < 5; attempt++) {
        answers.push(await guess(`192.0.2.${attempt}, 198.51.100.7`))
      }
      answers.push(await guess('198.51.100.8'))
      answers.push(await guess('198.51.100.7'))
      return answers
    }
    const viaGate = await guesses(gated)
    expect(viaGate.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 429, 401, 429])
    expect(viaGate).toEqual(await guesses(plain))
  })

  it('leaves signed URLs, public routes and unusual paths to Hono, which still decides them', async () => {
    const gated = await gatedServer()
    const signed = await fetch(
      `${gated.base}/v1/assets/ast_missing/content?expires=1&signature=forged`,
    )
    expect(signed.status).toBe(403)
    expect(((await signed.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_signature',
    )
    expect((await fetch(`${gated.base}/healthz`)).status).toBe(200)
    for (const path of ['/v1/models/', '/v1/%6Dodels', '/v1/nowhere', '/v1//models']) {
      const res = await fetch(`${gated.base}${path}`)
      expect({ path, status: res.status }).toEqual({ path, status: 401 })
      await res.arrayBuffer()
    }
  })
})

describe('revalidations before Hono', () => {
  /** An asset in each server's default workspace, the same bytes (so the same ETag) in both. */
  async function withAsset(served: Served) {
    const png = await noisePng('revalidated', 48)
    const uploaded = await served.t.app.fetch(uploadRequest(png))
    expect(uploaded.status).toBe(201)
    const { id, contentHash } = (await uploaded.json()) as { id: string; contentHash: string }
    return { url: `${served.base}/v1/assets/${id}/content`, etag: `"${contentHash}"` }
  }

  async function revalidations(served: Served) {
    const { url, etag } = await withAsset(served)
    const auth = { authorization: `Bearer ${served.t.key}` }
    const send = async (init: RequestInit) => normalized(await fetch(url, init))
    return [
      await send({ headers: { ...auth, 'if-none-match': etag } }),
      await send({ method: 'HEAD', headers: { ...auth, 'if-none-match': `W/${etag}, "other"` } }),
      await send({ headers: { ...auth, 'if-none-match': '"another-etag"' } }),
    ]
  }

  it('answer 304 as the content route does, and leave every other answer to it', async () => {
    const [gated, plain] = await Promise.all([gatedServer(), plainServer()])
    const viaGate = await revalidations(gated)
    const viaHono = await revalidations(plain)
    expect(viaGate.map((answer) => answer.status)).toEqual([304, 304, 200])
    expect(viaGate).toEqual(viaHono)
    expect(viaGate[0]?.headers).toMatchObject({
      'cache-control': 'private, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'content-security-policy': 'sandbox',
    })
    // Only the upload (in process) and the 200 reached Hono.
    expect(gated.honoSaw.filter((seen) => seen.startsWith('GET'))).toEqual([
      expect.stringMatching(/^GET \/v1\/assets\/ast_\w+\/content$/),
    ])
    expect(await requestCounts(gated)).toEqual(await requestCounts(plain))
    expect(accessLines(gated)).toEqual(accessLines(plain))
  })

  it('never for another workspace’s asset: that stays a 404', async () => {
    const gated = await gatedServer()
    const { url, etag } = await withAsset(gated)
    const created = await fetch(`${gated.base}/v1/workspaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gated.t.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other' }),
    })
    expect(created.status).toBe(201)
    const other = (await created.json()) as { id: string }
    const keyed = await fetch(`${gated.base}/v1/workspaces/${other.id}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gated.t.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['read'] }),
    })
    const { key } = (await keyed.json()) as { key: string }
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${key}`, 'if-none-match': etag },
    })
    expect(res.status).toBe(404)
    await res.arrayBuffer()
  })
})

/** A raw HTTP/1.1 exchange on one keep-alive connection. */
function exchange(
  agent: Agent,
  base: string,
  options: { method: string; path: string; headers?: Record<string, string>; body?: Buffer },
): Promise<{ status: number; headers: IncomingHttpHeaders; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${options.path}`, {
      agent,
      method: options.method,
      headers: options.headers,
    })
    req.on('response', (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, reused: req.reusedSocket }),
      )
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

describe('a refused request with a body', () => {
  it('is read and dropped, and the connection carries the next request', async () => {
    const gated = await gatedServer()
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const refused = await exchange(agent, gated.base, {
        method: 'POST',
        path: '/v1/images/generations',
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(256 * 1024, 0x20),
      })
      expect(refused.status).toBe(401)
      const next = await exchange(agent, gated.base, {
        method: 'GET',
        path: '/v1/models',
        headers: { authorization: `Bearer ${gated.t.key}` },
      })
      expect(next).toMatchObject({ status: 200, reused: true })
    } finally {
      agent.destroy()
    }
  })

  it('that never arrives whole ends the connection soon after the answer', async () => {
    const gated = await gatedServer()
    const { port } = new URL(gated.base)
    const socket = connect(Number(port), '127.0.0.1')
    let received = ''
    socket.on('data', (chunk) => {
      received += chunk.toString()
    })
    const closed = new Promise<number>((resolve) => {
      const started = Date.now()
      socket.on('close', () => resolve(Date.now() - started))
    })
    socket.write(
      'POST /v1/assets HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nonly the start',
    )
    const elapsed = await closed
    expect(received).toMatch(/^HTTP\/1\.1 401 /)
    expect(elapsed).toBeLessThan(5_000)
  })
})
