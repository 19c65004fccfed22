import { createImagegateClient } from '@imagegate/client'
import { describe, expect, inject, it } from 'vitest'

const proxyUrl = inject('prismProxyUrl')
const client = createImagegateClient({ baseUrl: proxyUrl, apiKey: inject('serverKey') })

/** Prism marks any off-spec answer with `sl-violations` (and turns it into a 500 with --errors). */
function expectOnSpec(response: Response) {
  expect(response.headers.get('sl-violations')).toBeNull()
}

describe('real server behind prism proxy --errors (server ↔ spec)', () => {
  it('GET /healthz conforms', async () => {
    const { data, response } = await client.GET('/healthz')
    expectOnSpec(response)
    expect(data).toEqual({ status: 'ok' })
  })

  it('GET /readyz conforms', async () => {
    const { data, response } = await client.GET('/readyz')
    expectOnSpec(response)
    expect(data?.checks).toEqual({ database: 'ok', dataDir: 'ok', blobStore: 'ok' })
  })

  it('GET /metrics conforms', async () => {
    const response = await fetch(`${proxyUrl}/metrics`, {
      headers: { authorization: `Bearer ${inject('serverKey')}` },
    })
    expectOnSpec(response)
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('imagegate_http_requests_total')
  })
})
