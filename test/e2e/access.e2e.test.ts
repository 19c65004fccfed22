import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { auditLedger } from '../../services/api/src/testing/ledger-audit.ts'
import type { FakeUpstream } from '../fakes/fake-upstream.ts'
import { type Gateway, restartableGateway, startGateway } from '../support/gateway.ts'
import { bearer, logLines, startServer, stop } from '../support/processes.ts'

/** `gpt-image-1` at 1024x1024, quality auto, in credits (default-models.json). */
const PRICE = 16.7
const paid = { model: 'gpt-image-1', prompt: 'a charged fox', size: '1024x1024' } as const

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

async function gateway(options: Parameters<typeof startGateway>[0] = {}): Promise<Gateway> {
  const gw = await startGateway(options)
  cleanups.push(() => gw.close())
  return gw
}

const generationCalls = (fake: FakeUpstream) => fake.calls.filter((call) => call.shape === 'openai')

const ledger = auditLedger

/** Statuses of the gateway's request log lines for POST /v1/images/generations. */
function requestStatuses(gw: Gateway): number[] {
  return logLines(gw.output())
    .filter((line) => line.msg === 'request' && line.path === '/v1/images/generations')
    .map((line) => (line.status as number | undefined) ?? 0)
}

describe('a newcomer', () => {
  it("gets an admin key on first start, and the README's first curl works with it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-readme-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    // Default settings, as `pnpm start` has them: default limits and credits.
    const server = await startServer(
      { IMAGEGATE_DATA_DIR: path.join(dir, 'data') },
      { defaults: true },
    )
    cleanups.push(() => stop(server.child))
    expect(server.output()).toContain(server.key)
    expect(server.output()).toContain('bootstrap-key')
    // README.md, "Call it": KEY=$(cat data/bootstrap-key), then the first curl.
    const response = await fetch(`${server.url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: '{"prompt":"a lighthouse at dusk, watercolor","size":"1024x1024","response_format":"url"}',
    })
    expect(response.status).toBe(200)
    const answer = (await response.json()) as {
      model: string
      cost: number
      data: { url: string }[]
    }
    expect(answer).toMatchObject({ model: 'local-sketch', cost: 0 })
    // The signed link works without a key, as in an <img> tag.
    const image = await fetch(answer.data[0]?.url ?? '')
    expect(image.status).toBe(200)
    expect(image.headers.get('content-type')).toBe('image/png')
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(401)
  })
})

describe('the openai SDK with its default retries: at most one debit per logical call', () => {
  it('I8: a slow upstream, a short client timeout and an Idempotency-Key → one upstream call, one debit', async () => {
    const gw = await gateway()
    gw.fake.setDefault({ mode: 'ok', delayMs: 1500 })
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key, timeout: 700 })
    expect(client.maxRetries).toBe(2)
    const before = ledger(gw.dataDir).balance
    const result = await client.images.generate(
      { ...paid, response_format: 'b64_json' },
      { headers: { 'Idempotency-Key': 'sdk-slow-1' } },
    )
    expect(result.data).toHaveLength(1)
    expect(generationCalls(gw.fake)).toHaveLength(1)
    // The SDK did time out and retry: more than one request reached the gateway.
    await vi.waitFor(() => expect(requestStatuses(gw).length).toBeGreaterThan(1))
    expect(requestStatuses(gw).filter((status) => status === 200).length).toBeGreaterThan(0)
    const after = ledger(gw.dataDir)
    expect(after.settled).toBe(1)
    expect(after.balance).toBeCloseTo(before - PRICE, 6)
  })

  it('a failing upstream: the gateway retries, says x-should-retry: false, nobody is charged', async () => {
    const gw = await gateway()
    gw.fake.setDefault('unavailable_503')
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key })
    const before = ledger(gw.dataDir).balance
    const error = await client.images.generate(paid).then(
      () => undefined,
      (err: unknown) => err as InstanceType<typeof OpenAI.APIError>,
    )
    expect(error?.status).toBe(503)
    // The gateway's own 3 attempts; the SDK did not add any.
    expect(generationCalls(gw.fake)).toHaveLength(3)
    const after = ledger(gw.dataDir)
    expect([after.settled, after.released, after.held]).toEqual([0, 1, 0])
    expect(after.balance).toBe(before)
  })

  it('a flaky upstream (503, then fine): one success, one debit', async () => {
    const gw = await gateway()
    gw.fake.script(['unavailable_503'])
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key })
    const before = ledger(gw.dataDir).balance
    await client.images.generate(paid)
    expect(generationCalls(gw.fake)).toHaveLength(2)
    const after = ledger(gw.dataDir)
    expect([after.settled, after.released]).toEqual([1, 0])
    expect(after.balance).toBeCloseTo(before - PRICE, 6)
  })

  it('R7: the SDK reads status, code, type and request id of every refusal; 402 is not retried', async () => {
    const gw = await gateway({
      env: { IMAGEGATE_KEY_REQUESTS_PER_MINUTE: '6', IMAGEGATE_BOOTSTRAP_CREDITS: '1' },
    })
    gw.fake.setDefault({ mode: 'ok', delayMs: 800 })
    const failure = async (run: () => Promise<unknown>) =>
      (await run().then(
        () => undefined,
        (err: unknown) => err,
      )) as InstanceType<typeof OpenAI.APIError>
    const wrong = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'igk_wrong', maxRetries: 0 })
    const unauthorized = await failure(() => wrong.models.list())
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(unauthorized).toMatchObject({
      status: 401,
      code: 'unauthorized',
      type: 'authentication_error',
    })
    expect(unauthorized.requestID).toMatch(/^req_/)

    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key, maxRetries: 0 })
    const broke = await failure(() => client.images.generate(paid))
    expect(broke).toMatchObject({
      status: 402,
      code: 'insufficient_credits',
      type: 'billing_error',
    })
    expect(generationCalls(gw.fake)).toHaveLength(0)

    const free = { model: 'local-sketch', prompt: 'free' }
    const inFlight = client.images.generate(free, { headers: { 'Idempotency-Key': 'r7' } })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const conflict = await failure(() =>
      client.images.generate(free, { headers: { 'Idempotency-Key': 'r7' } }),
    )
    // local-sketch answers fast: either still in flight (409) or already stored (replayed).
    if (conflict) {
      expect(conflict).toBeInstanceOf(OpenAI.ConflictError)
      expect(conflict.code).toBe('idempotency_key_in_use')
    }
    await inFlight
    const reused = await failure(() =>
      client.images.generate(
        { ...free, prompt: 'other' },
        { headers: { 'Idempotency-Key': 'r7' } },
      ),
    )
    expect(reused).toBeInstanceOf(OpenAI.UnprocessableEntityError)
    expect(reused).toMatchObject({ status: 422, code: 'idempotency_key_reused' })

    const limited = await failure(async () => {
      for (let index = 0; index < 10; index++) {
        await client.models.list()
      }
    })
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError)
    expect(limited).toMatchObject({ status: 429, code: 'rate_limited', type: 'rate_limit_error' })
    expect(limited.headers?.get('retry-after')).toMatch(/^\d+$/)
  })
})

describe('I5: kill -9 during a charged generation', () => {
  // A short lease, so the test can see a crashed attempt's key and credits come back.
  const crashableGateway = () =>
    restartableGateway({ IMAGEGATE_IDEMPOTENCY_LEASE_MS: '3000' }, (cleanup) =>
      cleanups.push(cleanup),
    )

  const post = (url: string, key: string, idempotencyKey?: string) =>
    fetch(`${url}/v1/images/generations`, {
      method: 'POST',
      headers: {
        ...bearer(key),
        'content-type': 'application/json',
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: JSON.stringify(paid),
    })

  it('leaves the ledger consistent; the retry takes the key over after the lease: one debit', async () => {
    const { fake, dataDir, start } = await crashableGateway()
    fake.setDefault({ mode: 'ok', delayMs: 30_000 })
    const first = await start()
    const initial = ledger(dataDir).balance
    const doomed = post(first.url, first.key, 'crash-1').catch(() => 'connection lost')
    const unkeyed = post(first.url, first.key).catch(() => 'connection lost')
    await vi.waitFor(() => expect(generationCalls(fake)).toHaveLength(2), { timeout: 10_000 })
    first.child.kill('SIGKILL')
    expect(await doomed).toBe('connection lost')
    expect(await unkeyed).toBe('connection lost')

    const second = await start()
    const afterCrash = ledger(dataDir)
    expect(afterCrash).toMatchObject({ integrity: 'ok', unbalanced: [], negative: 0, settled: 0 })
    expect(afterCrash.held).toBeLessThanOrEqual(2)
    expect(afterCrash.balance + afterCrash.held * PRICE).toBeCloseTo(initial, 6)
    // The generations the crash cut short are recorded as failed by the next start, not left
    // running.
    const records = await fetch(`${second.url}/v1/generations`, { headers: bearer(second.key) })
    const { data: cutShort } = (await records.json()) as {
      data: { status: string; error?: { code: string; message: string } }[]
    }
    expect(cutShort).toHaveLength(2)
    for (const record of cutShort) {
      expect(record).toMatchObject({
        status: 'failed',
        error: {
          code: 'internal_error',
          message: expect.stringContaining('imagegate stopped before this generation finished'),
        },
      })
    }
    fake.setDefault('ok')
    // Still leased: the retry is told to come back later, and nothing runs.
    const early = await post(second.url, second.key, 'crash-1')
    if (early.status !== 200) {
      expect(early.status).toBe(409)
      expect(Number(early.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(generationCalls(fake)).toHaveLength(2)
      await new Promise((resolve) => setTimeout(resolve, 3000))
    }
    const retried = early.status === 200 ? early : await post(second.url, second.key, 'crash-1')
    expect(retried.status).toBe(200)
    expect(retried.headers.get('idempotent-replayed')).toBeNull()
    const replay = await post(second.url, second.key, 'crash-1')
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(generationCalls(fake)).toHaveLength(3)
    // The unkeyed request's hold is released by the stale-hold sweep once its lease is over.
    await vi.waitFor(() => expect(ledger(dataDir).held).toBe(0), { timeout: 10_000 })
    const settled = ledger(dataDir)
    expect(settled).toMatchObject({ unbalanced: [], settled: 1, released: 2, inFlight: 0 })
    expect(settled.balance).toBeCloseTo(initial - PRICE, 6)
  }, 60_000)
})
