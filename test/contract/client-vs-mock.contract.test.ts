import { createImagegateClient, ImagegateError } from '@imagegate/client'
import { describe, expect, inject, it } from 'vitest'

// The mock checks that bearer credentials are present, not what they are.
const client = createImagegateClient({ baseUrl: inject('prismMockUrl'), apiKey: 'igk_mock' })

describe('typed client against prism mock (client ↔ spec)', () => {
  it('decodes a documented success example', async () => {
    const { data } = await client.GET('/healthz')
    expect(data).toEqual({ status: 'ok' })
  })

  it('decodes the readiness example', async () => {
    const { data } = await client.GET('/readyz')
    expect(data?.status).toBe('ready')
  })

  it('surfaces a declared error response as a typed ImagegateError', async () => {
    const failure = await client
      .GET('/healthz', { headers: { Prefer: 'code=500' } })
      .catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(ImagegateError)
    const error = failure as ImagegateError
    expect(error.status).toBe(500)
    expect(error.code).toBe('internal_error')
    expect(error.requestId).toBe('req_01J9Z7Q8R4M2')
  })
})
