import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { Fault } from '../fakes/fake-upstream.ts'
import { type Gateway, startGateway } from '../support/gateway.ts'

/** B8 (no double charge) and client disconnects, end to end against the fake upstream. */

let gw: Gateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const PRICE = 16.7 // gpt-image-1, 1024x1024, quality auto
const DEADLINE_MS = 1_000

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) {
      return value
    }
    if (Date.now() > until) {
      throw new Error('timed out waiting')
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('B8: the ledger debits only images actually delivered', () => {
  it('after a chaos run, records, costs and stored assets match the successful deliveries', async () => {
    gw = await startGateway({ modelChanges: { 'gpt-image-1': { timeoutMs: DEADLINE_MS } } })
    const gateway = gw
    // Consumed in order by upstream calls (retries included); few enough "provider down"
    // failures in a row that the breaker stays closed and every request reaches the upstream.
    const chaos: Fault[] = [
      'ok',
      'reset_after_headers',
      'ok',
      'server_error_500',
      'unavailable_503',
      'ok',
      'malformed_json',
      'truncated_base64',
      { mode: 'ok', delayMs: DEADLINE_MS + 1_000 },
      'ok',
      'bad_gateway_502',
      'ok',
      'no_image',
      'safety_block',
      'ok',
    ]
    gateway.fake.script(chaos)
    const answers = []
    for (let index = 0; index < 13; index++) {
      const n = index % 3 === 0 ? 2 : 1
      answers.push(
        await gateway.post('/v1/images/generations', {
          model: 'gpt-image-1',
          prompt: `chaos ${index}`,
          n,
        }),
      )
    }
    const delivered = answers.filter((answer) => answer.status === 200)
    const failed = answers.filter((answer) => answer.status !== 200)
    expect(delivered).toHaveLength(6)
    expect(failed.map((answer) => answer.status).sort()).toEqual([
      400, 502, 502, 502, 502, 502, 504,
    ])
    const deliveredImages = delivered.flatMap(
      (answer) => answer.body.data as { asset_id: string; content_hash: string }[],
    )

    // Every delivered image is the fake's, and is priced; nothing else is.
    for (const answer of delivered) {
      expect(answer.body.cost).toBeCloseTo(PRICE * answer.body.data.length, 6)
    }
    for (const image of deliveredImages) {
      expect(image.content_hash).toBe(sha256(gateway.fake.image))
    }

    const { data: page } = await gateway.client.GET('/v1/generations', {
      params: { query: { limit: 100 } },
    })
    const records = page?.data ?? []
    expect(records).toHaveLength(answers.length)
    const succeeded = records.filter((record) => record.status === 'succeeded')
    expect(succeeded.map((record) => record.id).sort()).toEqual(
      delivered.map((answer) => answer.body.generation_id as string).sort(),
    )
    const debits = records.reduce((sum, record) => sum + record.cost, 0)
    expect(debits).toBeCloseTo(PRICE * deliveredImages.length, 6)
    for (const record of records.filter((record) => record.status === 'failed')) {
      expect(record).toMatchObject({ cost: 0, assetIds: [] })
    }
    expect(succeeded.flatMap((record) => record.assetIds).sort()).toEqual(
      deliveredImages.map((image) => image.asset_id).sort(),
    )

    // The upstream did (and billed) more work than was delivered — resets, the timed-out call,
    // truncated and malformed answers — yet none of it was stored or charged.
    const performed = gateway.fake.calls.filter((call) =>
      ['ok', 'reset_after_headers', 'truncated_base64', 'malformed_json'].includes(
        call.fault ?? '',
      ),
    )
    expect(performed.length).toBeGreaterThan(delivered.length)
    const { data: assets } = await gateway.client.GET('/v1/assets', {
      params: { query: { limit: 100 } },
    })
    expect(assets?.data.map((asset) => asset.contentHash)).toEqual([sha256(gateway.fake.image)])
    expect(new Set(deliveredImages.map((image) => image.asset_id))).toEqual(
      new Set(assets?.data.map((asset) => asset.id)),
    )
  })
})

describe('B8: a fan-out that partly fails', () => {
  it('delivers and charges only the images that came back, and says what failed', async () => {
    gw = await startGateway()
    // dall-e-3 returns one image per call, so n=3 is three upstream calls; one of them fails.
    gw.fake.script(['ok', 'server_error_500', 'ok'])
    const answer = await gw.post('/v1/images/generations', {
      model: 'dall-e-3',
      prompt: 'three lanterns',
      n: 3,
    })
    expect(answer.status).toBe(200)
    expect(gw.fake.calls.filter((call) => call.shape === 'openai')).toHaveLength(3)
    expect(answer.body.data).toHaveLength(2)
    expect(answer.body.data[0].revised_prompt).toBe('three lanterns')
    expect(answer.body.cost).toBe(2 * 4)
    expect(answer.body.warnings).toEqual([expect.stringMatching(/^1 of 3 images failed: /)])
    const { data: record } = await gw.client.GET('/v1/generations/{id}', {
      params: { path: { id: answer.body.generation_id } },
    })
    expect(record).toMatchObject({ status: 'succeeded', n: 3, cost: 8 })
    expect(record?.assetIds).toHaveLength(2)
    expect(record?.attempts.map((attempt) => attempt.outcome).sort()).toEqual([
      'ambiguous',
      'success',
      'success',
    ])
  })
})

describe('a client that disconnects', () => {
  it('does not abort a generation already under way: it completes and is stored', async () => {
    gw = await startGateway()
    const gateway = gw
    gateway.fake.script([{ mode: 'ok', delayMs: 1_500 }])
    const controller = new AbortController()
    const request = gateway.post(
      '/v1/images/generations',
      { model: 'gpt-image-1-mini', prompt: 'paid for, then abandoned' },
      { signal: controller.signal },
    )
    await waitFor(async () => (gateway.fake.calls.length > 0 ? true : undefined))
    controller.abort()
    await expect(request).rejects.toThrow()

    const record = await waitFor(async () => {
      const { data } = await gateway.client.GET('/v1/generations', {
        params: { query: { limit: 1 } },
      })
      const latest = data?.data[0]
      return latest && latest.status !== 'running' ? latest : undefined
    })
    expect(record).toMatchObject({
      status: 'succeeded',
      prompt: 'paid for, then abandoned',
      cost: 3.6,
    })
    expect(record.assetIds).toHaveLength(1)
    const content = await fetch(`${gateway.url}/v1/assets/${record.assetIds[0]}/content`, {
      headers: { authorization: `Bearer ${gateway.key}` },
    })
    expect(content.status).toBe(200)
    expect(sha256(new Uint8Array(await content.arrayBuffer()))).toBe(sha256(gateway.fake.image))
    expect(gateway.fake.calls).toHaveLength(1)
    // The server is still healthy after writing to a closed connection.
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200)
  })
})
