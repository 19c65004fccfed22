import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { deferred } from '../../testing/deferred.ts'
import { createInFlightRequests } from './in-flight.ts'

function appWith(inFlight: ReturnType<typeof createInFlightRequests>, gate: Promise<void>) {
  const app = new Hono()
  app.use(inFlight.middleware)
  app.get('/slow', async (c) => {
    await gate
    return c.text('done')
  })
  app.get('/boom', () => {
    throw new Error('boom')
  })
  return app
}

describe('in-flight requests', () => {
  it('counts a handler until it returns; idle() resolves only then', async () => {
    const inFlight = createInFlightRequests()
    const gate = deferred()
    const app = appWith(inFlight, gate.promise)
    await inFlight.idle()
    const answer = app.request('/slow')
    await vi.waitFor(() => expect(inFlight.size).toBe(1))
    let idle = false
    const idled = inFlight.idle().then(() => {
      idle = true
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(idle).toBe(false)
    gate.resolve()
    expect(await (await answer).text()).toBe('done')
    await idled
    expect(inFlight.size).toBe(0)
  })

  it('counts a handler that throws out again', async () => {
    const inFlight = createInFlightRequests()
    const app = appWith(inFlight, Promise.resolve())
    expect((await app.request('/boom')).status).toBe(500)
    expect(inFlight.size).toBe(0)
  })

  it('keeps counting a handler whose client has hung up, until it is done', async () => {
    const inFlight = createInFlightRequests()
    const gate = deferred()
    const server = serve({ fetch: appWith(inFlight, gate.promise).fetch, port: 0 })
    try {
      await new Promise((resolve) => server.once('listening', resolve))
      const { port } = server.address() as AddressInfo
      const client = request({ port, path: '/slow' })
      client.on('error', () => {})
      client.end()
      await vi.waitFor(() => expect(inFlight.size).toBe(1))
      const hungUp = new Promise((resolve) => client.once('close', resolve))
      client.destroy()
      await hungUp
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(inFlight.size).toBe(1)
      gate.resolve()
      await inFlight.idle()
      expect(inFlight.size).toBe(0)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
