import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { auditLedger } from '../../services/api/src/testing/ledger-audit.ts'
import type { FakeUpstream } from '../fakes/fake-upstream.ts'
import { restartableGateway } from '../support/gateway.ts'
import { bearer, logLines } from '../support/processes.ts'

/**
 * Stopping the server while generations are in flight: SIGTERM finishes them (a caller that hung
 * up included: the image is paid for) within IMAGEGATE_SHUTDOWN_GRACE_MS, and whatever a stop
 * cuts short is recorded as failed, never left `running`.
 */

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

const paid = { model: 'gpt-image-1', prompt: 'a lighthouse in a storm', size: '1024x1024' }

function setUp(env: Record<string, string> = {}) {
  return restartableGateway({ IMAGEGATE_LOG_LEVEL: 'info', ...env }, (cleanup) =>
    cleanups.push(cleanup),
  )
}

const generationCalls = (fake: FakeUpstream) => fake.calls.filter((call) => call.shape === 'openai')

function post(url: string, key: string, signal?: AbortSignal) {
  return fetch(`${url}/v1/images/generations`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify(paid),
    ...(signal ? { signal } : {}),
  })
}

type Generation = {
  id: string
  status: string
  assetIds: string[]
  error?: { code: string; message: string }
}

async function generations(url: string, key: string): Promise<Generation[]> {
  const response = await fetch(`${url}/v1/generations`, { headers: bearer(key) })
  expect(response.status).toBe(200)
  return ((await response.json()) as { data: Generation[] }).data
}

/** The log lines of a server's output that carry `msg`. */
function logged(output: string, msg: string): Record<string, unknown>[] {
  return logLines(output).filter((line) => line.msg === msg)
}

describe('SIGTERM with generations in flight', () => {
  it('finishes and stores a generation whose caller hung up, then exits 0', async () => {
    const { fake, dataDir, start } = await setUp()
    fake.setDefault({ mode: 'ok', delayMs: 1500 })
    const first = await start()
    const hangUp = new AbortController()
    const abandoned = post(first.url, first.key, hangUp.signal).catch(() => 'hung up')
    await vi.waitFor(() => expect(generationCalls(fake)).toHaveLength(1), { timeout: 10_000 })
    hangUp.abort()
    expect(await abandoned).toBe('hung up')
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(first.output()).toContain('shutdown complete')
    expect(logged(first.output(), 'grace period over, closing remaining connections')).toEqual([])

    // Stored and charged by the process that stopped; nothing for the next start to mend.
    expect(auditLedger(dataDir)).toMatchObject({ integrity: 'ok', held: 0, settled: 1 })
    const second = await start()
    const [record, ...others] = await generations(second.url, second.key)
    expect(others).toEqual([])
    expect(record).toMatchObject({ status: 'succeeded', assetIds: [expect.any(String)] })
    const content = await fetch(`${second.url}/v1/assets/${record?.assetIds[0]}/content`, {
      headers: bearer(second.key),
    })
    expect(content.status).toBe(200)
    const sha256 = createHash('sha256')
      .update(Buffer.from(await content.arrayBuffer()))
      .digest('hex')
    expect(sha256).toBe(createHash('sha256').update(fake.image).digest('hex'))
    expect(logged(second.output(), 'generations that did not finish marked failed')).toEqual([])
  }, 60_000)

  it('records a generation still running when the grace period ends as failed, then exits 0', async () => {
    const { fake, dataDir, start } = await setUp({ IMAGEGATE_SHUTDOWN_GRACE_MS: '500' })
    fake.setDefault({ mode: 'ok', delayMs: 30_000 })
    const first = await start()
    const cutShort = post(first.url, first.key).catch(() => 'connection closed')
    await vi.waitFor(() => expect(generationCalls(fake)).toHaveLength(1), { timeout: 10_000 })
    const signalled = performance.now()
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(performance.now() - signalled).toBeLessThan(10_000)
    expect(await cutShort).toBe('connection closed')
    expect(logged(first.output(), 'generations that did not finish marked failed')).toEqual([
      expect.objectContaining({ count: 1, when: 'shutdown' }),
    ])
    // Its hold is still there, to be released by the stale-hold sweep: nothing was charged.
    expect(auditLedger(dataDir)).toMatchObject({ integrity: 'ok', held: 1, settled: 0 })

    const second = await start()
    expect(await generations(second.url, second.key)).toEqual([
      expect.objectContaining({
        status: 'failed',
        assetIds: [],
        error: {
          code: 'internal_error',
          message: expect.stringContaining('imagegate stopped before this generation finished'),
        },
      }),
    ])
    expect(logged(second.output(), 'generations that did not finish marked failed')).toEqual([])
  }, 60_000)
})
