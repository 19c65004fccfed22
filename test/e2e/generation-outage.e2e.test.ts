import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { type Gateway, startGateway } from '../support/gateway.ts'

/** A provider that is down (open breaker, outage), end to end, seen through the gateway. */

let gw: Gateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

const generationCalls = (gateway: Gateway) =>
  gateway.fake.calls.filter((call) => call.shape !== 'file')

describe('B4: the circuit breaker under a total outage', () => {
  it('opens after repeated 503s, then fails fast with Retry-After and no upstream call, and probes back', async () => {
    gw = await startGateway()
    const gateway = gw
    gateway.fake.setDefault('unavailable_503')
    const ask = (prompt: string, model = 'gpt-image-1-mini') =>
      gateway.post('/v1/images/generations', { model, prompt })

    // 3 attempts, then the gateway's final answer: do not retry (the client SDK would add ×3).
    const first = await ask('outage 1')
    expect(first.status).toBe(503)
    expect(first.body.error).toMatchObject({ code: 'upstream_unavailable', reason: 'unavailable' })
    expect(first.headers.get('x-should-retry')).toBe('false')
    expect(generationCalls(gateway)).toHaveLength(3)

    // The 5th consecutive failure opens the circuit mid-request.
    const second = await ask('outage 2')
    expect(second.status).toBe(503)
    expect(generationCalls(gateway)).toHaveLength(5)

    const upstreamBefore = generationCalls(gateway).length
    for (let index = 0; index < 5; index++) {
      const fast = await ask(`outage fast ${index}`)
      expect(fast.status).toBe(503)
      expect(fast.body.error).toMatchObject({
        code: 'upstream_unavailable',
        reason: 'circuit_open',
      })
      expect(Number(fast.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(Number(fast.headers.get('retry-after'))).toBeLessThanOrEqual(10)
      // Waiting Retry-After and trying again is safe: nothing was sent upstream.
      expect(fast.headers.get('x-should-retry')).toBe('true')
      expect(fast.ms).toBeLessThan(250)
    }
    expect(generationCalls(gateway)).toHaveLength(upstreamBefore)
    const { data: fastRecord } = await gateway.client.GET('/v1/generations', {
      params: { query: { limit: 1 } },
    })
    expect(fastRecord?.data[0]).toMatchObject({ status: 'failed', attempts: [] })

    // One provider's breaker does not touch another's.
    expect((await ask('gemini is fine', 'gemini-2.5-flash-image')).status).toBe(503)
    gateway.fake.setDefault('ok')
    expect((await ask('gemini is fine', 'gemini-2.5-flash-image')).status).toBe(200)

    // After one cool-down the next request is the probe; its success closes the circuit.
    const retryAfter = Number((await ask('still open')).headers.get('retry-after'))
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100))
    const openAICallsBefore = generationCalls(gateway).filter(
      (call) => call.shape === 'openai',
    ).length
    const probe = await ask('probe')
    expect(probe.status).toBe(200)
    expect((await ask('closed again')).status).toBe(200)
    expect(generationCalls(gateway).filter((call) => call.shape === 'openai')).toHaveLength(
      openAICallsBefore + 2,
    )
  })
})

describe('B6: no retry amplification', () => {
  it('the openai SDK (maxRetries 2) → imagegate → an always-503 upstream makes at most 3 upstream attempts', async () => {
    gw = await startGateway()
    gw.fake.setDefault('unavailable_503')
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key })
    expect(client.maxRetries).toBe(2)
    const error = await client.images
      .generate({ model: 'gpt-image-1-mini', prompt: 'amplified?' })
      .then(
        () => undefined,
        (err: unknown) => err,
      )
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503)
    expect(generationCalls(gw)).toHaveLength(3)
    const { data } = await gw.client.GET('/v1/generations')
    // The SDK did not retry: one request reached imagegate.
    expect(data?.data).toHaveLength(1)
  })

  it('the SDK does not replay an ambiguous 500 either: 1 upstream attempt', async () => {
    gw = await startGateway()
    gw.fake.setDefault('server_error_500')
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key })
    const error = await client.images
      .generate({ model: 'gpt-image-1-mini', prompt: 'billed twice?' })
      .then(
        () => undefined,
        (err: unknown) => err,
      )
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502)
    expect(generationCalls(gw)).toHaveLength(1)
  })
})
