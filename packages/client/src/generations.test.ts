import { afterEach, describe, expect, it } from 'vitest'
// The client is exercised against the real app in-process; the server package owns these helpers.
import {
  type AccessTestApp,
  createAccessTestApp,
} from '../../../services/api/src/testing/access.ts'
import { ImagegateError } from './errors.ts'
import { retryAfterMs } from './generations.ts'

let t: AccessTestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

const acceptJob = (app: AccessTestApp, prompt: string) =>
  app.client.generateAsync({ model: 'gpt-image-1', prompt, size: '1024x1024' })

describe('client.waitForGeneration', () => {
  it('polls an accepted job to its end, reporting each status once', async () => {
    t = await createAccessTestApp({ script: { delayMs: 300 } })
    const accepted = await acceptJob(t, 'wait for me')
    expect(accepted.status).toBe('queued')
    const seen: string[] = []
    const polls: number[] = []
    const started = Date.now()
    const done = await t.client.waitForGeneration(accepted.id, {
      onStatus: (generation) => {
        seen.push(generation.status)
        polls.push(Date.now() - started)
      },
    })
    expect(done.status).toBe('succeeded')
    expect(done.assetIds).toHaveLength(1)
    expect(seen.at(-1)).toBe('succeeded')
    expect(new Set(seen).size).toBe(seen.length)
    // The server's Retry-After (1 s) sets the pace, not the client's faster first interval.
    expect(polls.at(-1)).toBeGreaterThanOrEqual(900)
  })

  it('stops waiting when its signal aborts', async () => {
    t = await createAccessTestApp({ script: { delayMs: 5000 } })
    const accepted = await acceptJob(t, 'never mind')
    const controller = new AbortController()
    const waiting = t.client.waitForGeneration(accepted.id, { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('gave up')), 100)
    await expect(waiting).rejects.toThrow('gave up')
    await t.client.POST('/v1/generations/{id}/cancel', { params: { path: { id: accepted.id } } })
  })

  it('rejects with the typed error for an unknown id', async () => {
    t = await createAccessTestApp()
    const error = await t.client.waitForGeneration('gen_unknown').catch((err: unknown) => err)
    expect(error).toBeInstanceOf(ImagegateError)
    expect(error).toMatchObject({ status: 404, code: 'not_found' })
  })
})

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(retryAfterMs('2', now)).toBe(2000)
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000)
    expect(retryAfterMs('soon', now)).toBeUndefined()
    expect(retryAfterMs(null, now)).toBeUndefined()
  })
})
