import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type AccessTestApp, createAccessTestApp } from '../testing/access.ts'

let t: AccessTestApp
let canary: Server | undefined
afterEach(async () => {
  await t.close()
  await new Promise((resolve) => (canary ? canary.close(resolve) : resolve(undefined)))
  canary = undefined
})

/** A listening socket that counts every connection made to it. */
async function listenCanary() {
  const hits = { count: 0 }
  canary = createServer((socket) => {
    hits.count += 1
    socket.destroy()
  })
  await new Promise<void>((resolve) => canary?.listen(0, '127.0.0.1', resolve))
  const address = canary.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { hits, port }
}

/**
 * S6: imagegate accepts no URL from a client (images arrive as bytes), so there is nothing to
 * make it connect anywhere. Every spelling of a private, loopback or metadata address, in every field a client might
 * try, is refused or ignored, and the canary socket sees no connection.
 */
describe('S6: no client-supplied URL is ever fetched', () => {
  it('refuses or ignores loopback, metadata and encoded addresses in every body', async () => {
    t = await createAccessTestApp()
    const { hits, port } = await listenCanary()
    const targets = [
      `http://127.0.0.1:${port}/x.png`,
      `http://localhost:${port}/x.png`,
      `http://0x7f000001:${port}/x.png`,
      `http://2130706433:${port}/x.png`,
      `http://017700000001:${port}/x.png`,
      `http://[::1]:${port}/x.png`,
      `http://[::ffff:127.0.0.1]:${port}/x.png`,
      'http://169.254.169.254/latest/meta-data/',
    ]
    for (const url of targets) {
      const generation = await t.call('POST', '/v1/images/generations', {
        body: {
          model: 'local-sketch',
          prompt: 'ssrf?',
          size: '256x256',
          url,
          image: url,
          image_url: url,
          reference_images: [url],
        },
      })
      // Unknown fields are dropped (200) or refused (400); never followed.
      expect([200, 400]).toContain(generation.status)
      const skill = await t.call('POST', '/v1/skills/image-generate', {
        body: { prompt: 'ssrf?', model: 'local-sketch', size: '256x256', imageUrl: url },
      })
      expect([200, 400]).toContain(skill.status)
      const upload = await t.call('POST', '/v1/assets', {
        body: { url },
        headers: { 'x-content-sha256': '0'.repeat(64) },
      })
      expect(upload.status).toBeGreaterThanOrEqual(400)
      expect(upload.status).toBeLessThan(500)
    }
    // Give a stray connection time to arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(hits.count).toBe(0)
  })
})
