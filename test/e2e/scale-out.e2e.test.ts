import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey } from '../../services/api/src/access/api-key-format.ts'
import { noisePng, sha256Hex } from '../../services/api/src/testing/images.ts'
import {
  auditPgLedger,
  call,
  type Instance,
  type ScaledBackends,
  startScaledBackends,
  uploadForm,
} from '../support/scaled-gateways.ts'

/** gpt-image-1 at its default size and quality, in ledger units (1000 a credit). */
const PRICE_UNITS = 16_700
/** A balance of `credits` less `images` generations, in credits, without float drift. */
const left = (credits: number, images: number) => (credits * 1000 - images * PRICE_UNITS) / 1000
const AUTH_FAILURES_PER_MINUTE = 4

let backends: ScaledBackends
let a: Instance
let b: Instance

beforeAll(async () => {
  backends = await startScaledBackends({
    env: { IMAGEGATE_AUTH_FAILURES_PER_MINUTE: String(AUTH_FAILURES_PER_MINUTE) },
  })
  // Started together, as a deployment's instances are: both bootstrap the same empty database.
  ;[a, b] = await Promise.all([backends.startInstance('a'), backends.startInstance('b')])
})

afterAll(async () => {
  await backends?.close()
})

/** A workspace of its own with `credits` (made through A), and a generate key of it (through B). */
async function fundedKey(credits: number) {
  const workspace = await call(a, '/v1/workspaces', {
    key: a.key,
    json: { name: `scale-out ${randomBytes(4).toString('hex')}`, initialCredits: credits },
  })
  expect(workspace.status).toBe(201)
  const created = await call(b, `/v1/workspaces/${workspace.body?.id}/keys`, {
    key: b.key,
    json: { scopes: ['generate'] },
  })
  expect(created.status).toBe(201)
  return { workspaceId: workspace.body?.id as string, key: created.body?.key as string }
}

const upstreamCallsFor = (prompt: string) =>
  backends.fake.calls.filter(
    (upstream) => (upstream.body as { prompt?: string } | undefined)?.prompt === prompt,
  )

describe('two instances on one PostgreSQL, one S3 bucket and one Redis', () => {
  it('bootstraps once: one default workspace, one admin key, announced by one instance', async () => {
    expect(await backends.query('SELECT id FROM workspaces')).toEqual([{ id: 'default' }])
    expect(await backends.query('SELECT workspace_id, scopes FROM api_keys')).toEqual([
      { workspace_id: 'default', scopes: ['admin'] },
    ])
    expect(
      await backends.query("SELECT workspace_id FROM credit_ledger WHERE kind = 'grant'"),
    ).toEqual([{ workspace_id: 'default' }])
    const announced = [a, b].filter((instance) =>
      /created workspace "default" with the admin key from IMAGEGATE_BOOTSTRAP_ADMIN_KEY/.test(
        instance.output(),
      ),
    )
    expect(announced).toHaveLength(1)
    for (const instance of [a, b]) {
      expect(existsSync(path.join(instance.dataDir, 'bootstrap-key'))).toBe(false)
      expect((await call(instance, '/v1/models', { key: instance.key })).status).toBe(200)
    }
  })

  it('/readyz of each instance names and passes every backend', async () => {
    for (const instance of [a, b]) {
      const ready = await call(instance, '/readyz')
      expect(ready.status).toBe(200)
      expect(ready.body).toMatchObject({
        status: 'ready',
        checks: { database: 'ok', blobStore: 'ok', redis: 'ok' },
      })
    }
  })

  it('an asset uploaded through A is listed, served (Range, ETag, 304) and deleted through B', async () => {
    const bytes = await noisePng('uploaded through A', 40)
    const hash = sha256Hex(bytes)
    const uploaded = await call(a, '/v1/assets', {
      key: a.key,
      form: uploadForm(bytes, '/scale-out'),
      headers: { 'x-content-sha256': hash },
    })
    expect(uploaded.status).toBe(201)
    const id = uploaded.body?.id as string

    const listed = await call(b, '/v1/assets?folderPath=/scale-out', { key: b.key })
    expect(listed.body?.data.map((row: { id: string }) => row.id)).toEqual([id])
    const full = await call(b, `/v1/assets/${id}/content`, { key: b.key })
    expect(full.status).toBe(200)
    expect(full.headers.get('etag')).toBe(`"${hash}"`)
    expect(full.bytes).toEqual(new Uint8Array(bytes))
    const part = await call(b, `/v1/assets/${id}/content`, {
      key: b.key,
      headers: { range: 'bytes=10-29' },
    })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 10-29/${bytes.byteLength}`)
    expect(part.bytes).toEqual(new Uint8Array(bytes.subarray(10, 30)))
    const revalidated = await call(b, `/v1/assets/${id}/content`, {
      key: b.key,
      headers: { 'if-none-match': `"${hash}"` },
    })
    expect(revalidated.status).toBe(304)

    expect((await call(b, `/v1/assets/${id}`, { method: 'DELETE', key: b.key })).status).toBe(204)
    expect((await call(a, `/v1/assets/${id}`, { key: a.key })).status).toBe(404)
    expect((await call(a, `/v1/assets/${id}/content`, { key: a.key })).status).toBe(404)
  })

  it('the same bytes uploaded through A and B at once: one object in the bucket, one asset row', async () => {
    const bytes = await noisePng('uploaded twice at once', 64)
    const hash = sha256Hex(bytes)
    const answers = await Promise.all(
      [a, b, a, b].map((instance) =>
        call(instance, '/v1/assets', {
          key: instance.key,
          form: uploadForm(bytes),
          headers: { 'x-content-sha256': hash },
        }),
      ),
    )
    for (const answer of answers) {
      expect([200, 201]).toContain(answer.status)
    }
    const ids = new Set(answers.map((answer) => answer.body?.id))
    expect(ids.size).toBe(1)
    expect(await backends.query('SELECT id FROM assets WHERE content_hash = $1', [hash])).toEqual([
      { id: [...ids][0] },
    ])
    const objects = (await backends.bucketKeys()).filter((key) => key.includes(hash))
    expect(objects).toEqual([`${backends.s3Prefix}sha256/${hash}`])
    const served = await call(b, `/v1/assets/${[...ids][0]}/content`, { key: b.key })
    expect(sha256Hex(served.bytes)).toBe(hash)
  })

  it('a URL signed by A is served by B, and an altered one is refused by B', async () => {
    const generated = await call(a, '/v1/images/generations', {
      key: a.key,
      json: { model: 'gpt-image-1', prompt: 'a signed lighthouse', response_format: 'url' },
    })
    expect(generated.status).toBe(200)
    const image = generated.body?.data[0] as { url: string; content_hash: string }
    const signed = new URL(image.url)
    expect(signed.origin).toBe(a.url)
    const onB = await call(b, `${signed.pathname}${signed.search}`)
    expect(onB.status).toBe(200)
    expect(sha256Hex(onB.bytes)).toBe(image.content_hash)
    const altered = new URL(signed)
    const signature = altered.searchParams.get('signature') ?? ''
    altered.searchParams.set(
      'signature',
      `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
    )
    const refused = await call(b, `${altered.pathname}${altered.search}`)
    expect(refused.status).toBe(403)
    expect(refused.body?.error.code).toBe('invalid_signature')
  })

  it('concurrent charged generations through A and B never overdraw nor debit twice', async () => {
    const { workspaceId, key } = await fundedKey(100)
    backends.fake.setDefault({ mode: 'ok', delayMs: 300 })
    try {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          call(index % 2 === 0 ? a : b, '/v1/images/generations', {
            key,
            json: { model: 'gpt-image-1', prompt: `overdraw ${workspaceId} #${index}` },
          }),
        ),
      )
      const statuses = answers.map((answer) => answer.status).sort()
      // 100 credits hold five images at 16.7, not six, whichever instance holds them.
      expect(statuses).toEqual([200, 200, 200, 200, 200, 402, 402, 402, 402, 402, 402, 402])
      for (const refused of answers.filter((answer) => answer.status === 402)) {
        expect(refused.body?.error.code).toBe('insufficient_credits')
      }
      const audit = await auditPgLedger(backends.query, workspaceId)
      expect(audit).toEqual({
        balance: left(100, 5),
        ledgerSum: left(100, 5),
        held: 0,
        settled: 5,
        released: 0,
        malformed: 0,
        rows: { grant: 1, reserve: 5, settle: 5 },
      })
      const usage = await call(b, `/v1/workspaces/${workspaceId}/usage`, { key: b.key })
      expect(usage.body?.balance).toBe(left(100, 5))
    } finally {
      backends.fake.setDefault('ok')
    }
  })

  it('one Idempotency-Key sent to A and B at the same moment: one upstream call, one debit', async () => {
    const { workspaceId, key } = await fundedKey(100)
    const prompt = `idempotent ${workspaceId}`
    const send = (instance: Instance) =>
      call(instance, '/v1/images/generations', {
        key,
        json: { model: 'gpt-image-1', prompt },
        headers: { 'idempotency-key': `both-${workspaceId}` },
      })
    backends.fake.setDefault({ mode: 'ok', delayMs: 1500 })
    let first: Awaited<ReturnType<typeof send>>
    let second: Awaited<ReturnType<typeof send>>
    try {
      ;[first, second] = await Promise.all([send(a), send(b)])
    } finally {
      backends.fake.setDefault('ok')
    }
    expect(upstreamCallsFor(prompt)).toHaveLength(1)
    const [winner, loser] =
      first.status === 200 && second.status !== 200 ? [first, second] : [second, first]
    expect(winner.status).toBe(200)
    if (loser.status === 409) {
      expect(loser.body?.error.code).toBe('idempotency_key_in_use')
    } else {
      expect(loser.status).toBe(200)
      expect(loser.headers.get('idempotent-replayed')).toBe('true')
      expect(loser.bytes).toEqual(winner.bytes)
    }
    // A retry through either instance replays the stored answer byte for byte.
    for (const instance of [a, b]) {
      const replay = await send(instance)
      expect(replay.status).toBe(200)
      expect(replay.headers.get('idempotent-replayed')).toBe('true')
      expect(replay.bytes).toEqual(winner.bytes)
    }
    expect(upstreamCallsFor(prompt)).toHaveLength(1)
    expect(await auditPgLedger(backends.query, workspaceId)).toEqual({
      balance: left(100, 1),
      ledgerSum: left(100, 1),
      held: 0,
      settled: 1,
      released: 0,
      malformed: 0,
      rows: { grant: 1, reserve: 1, settle: 1 },
    })
  })

  it('an asynchronous generation accepted by A finishes and is visible through B', async () => {
    const prompt = `accepted by A ${randomBytes(4).toString('hex')}`
    const accepted = await call(a, '/v1/images/generations', {
      key: a.key,
      json: { model: 'gpt-image-1', prompt },
      headers: { prefer: 'respond-async' },
    })
    expect(accepted.status).toBe(202)
    const id = accepted.body?.id as string
    let record: Record<string, unknown> | undefined
    const until = Date.now() + 20_000
    while (Date.now() < until) {
      const seen = await call(b, `/v1/generations/${id}`, { key: b.key })
      expect(seen.status).toBe(200)
      record = seen.body
      if (!['queued', 'running'].includes(String(record?.status))) {
        break
      }
      await sleep(100)
    }
    expect(record).toMatchObject({ id, status: 'succeeded' })
    expect(upstreamCallsFor(prompt)).toHaveLength(1)
    const [assetId] = (record?.assetIds ?? []) as string[]
    const content = await call(b, `/v1/assets/${assetId}/content`, { key: b.key })
    expect(content.status).toBe(200)
    const asset = await call(a, `/v1/assets/${assetId}`, { key: a.key })
    expect(sha256Hex(content.bytes)).toBe(asset.body?.contentHash)
  })

  // Last: the failed-authentication throttle it sets off applies to everything from 127.0.0.1
  // that carries no valid key (signed URLs included) for the rest of the minute.
  it('a key limited to N requests a minute gets N across A and B, and failed authentications count once', async () => {
    const limit = 6
    const created = await call(a, '/v1/workspaces/default/keys', {
      key: a.key,
      json: { scopes: ['read'], rateLimits: { requestsPerMinute: limit } },
    })
    expect(created.status).toBe(201)
    const key = created.body?.key as string
    const statuses: number[] = []
    for (let index = 0; index < 2 * limit; index++) {
      statuses.push((await call(index % 2 === 0 ? a : b, '/v1/models', { key })).status)
    }
    expect(statuses).toEqual([...Array(limit).fill(200), ...Array(limit).fill(429)])

    const unknownKey = generateApiKey((size) => randomBytes(size)).key
    const refusals: number[] = []
    for (let index = 0; index < 2 * AUTH_FAILURES_PER_MINUTE; index++) {
      refusals.push((await call(index % 2 === 0 ? b : a, '/v1/models', { key: unknownKey })).status)
    }
    expect(refusals).toEqual([
      ...Array(AUTH_FAILURES_PER_MINUTE).fill(401),
      ...Array(AUTH_FAILURES_PER_MINUTE).fill(429),
    ])
    // Valid keys from the throttled address are still served, on both.
    for (const instance of [a, b]) {
      expect((await call(instance, '/v1/models', { key: instance.key })).status).toBe(200)
    }
  })
})
