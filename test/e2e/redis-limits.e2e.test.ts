import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { connectRedis, openRedis } from '../../services/api/src/access/redis-client.ts'
import {
  keysUnder,
  startOwnRedisServer,
  uniqueKeyPrefix,
} from '../../services/api/src/testing/redis.ts'
import { bearer, freePort, logLines, repoRoot, startServer, stop } from '../support/processes.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-redis-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function status(url: string, key: string): Promise<number> {
  const response = await fetch(url, { headers: bearer(key) })
  await response.arrayBuffer()
  return response.status
}

/** Statuses of `count` requests in a row. */
async function statuses(url: string, key: string, count: number): Promise<number[]> {
  const seen: number[] = []
  for (let index = 0; index < count; index += 1) {
    seen.push(await status(url, key))
  }
  return seen
}

async function readiness(url: string) {
  const response = await fetch(`${url}/readyz`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('IMAGEGATE_REDIS_URL on the real server', () => {
  it('an unreachable Redis fails the start with one clear message, and nothing is written', async () => {
    const port = await freePort()
    const dataDir = path.join(tempDir(), 'data')
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/api/src/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PORT: '0',
        IMAGEGATE_DATA_DIR: dataDir,
        IMAGEGATE_REDIS_URL: `redis://127.0.0.1:${port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(2)
    expect(stderr.trim()).toMatch(
      new RegExp(
        `^imagegate: IMAGEGATE_REDIS_URL: cannot reach Redis at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`,
      ),
    )
    expect(() => readdirSync(dataDir)).toThrow(/ENOENT/)
  })

  it('Redis down mid-run: per-instance limits, /readyz says so, shared again once it is back', async () => {
    const redisServer = await startOwnRedisServer()
    cleanups.push(() => redisServer.kill())
    const keyPrefix = uniqueKeyPrefix()
    const gw = await startServer({
      IMAGEGATE_DATA_DIR: path.join(tempDir(), 'data'),
      IMAGEGATE_REDIS_URL: redisServer.url,
      IMAGEGATE_REDIS_KEY_PREFIX: keyPrefix,
    })
    cleanups.push(() => stop(gw.child))
    // A key of its own with 5 requests a minute; the admin key stays free for /metrics.
    const created = await fetch(`${gw.url}/v1/workspaces/default/keys`, {
      method: 'POST',
      headers: { ...bearer(gw.key), 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['read'], rateLimits: { requestsPerMinute: 5 } }),
    })
    expect(created.status).toBe(201)
    const { key, id } = (await created.json()) as { key: string; id: string }
    const models = `${gw.url}/v1/models`
    const bucketKeys = async () => {
      const inspect = openRedis(redisServer.url)
      try {
        await connectRedis(inspect)
        return await keysUnder(inspect, `${keyPrefix}requests:key:${id}`)
      } finally {
        inspect.disconnect()
      }
    }

    // Shared: the budget is spent in Redis.
    expect(await statuses(models, key, 3)).toEqual([200, 200, 200])
    expect(await bucketKeys()).toHaveLength(1)
    expect(await readiness(gw.url)).toEqual({
      status: 200,
      body: {
        status: 'ready',
        checks: { database: 'ok', dataDir: 'ok', blobStore: 'ok', redis: 'ok' },
      },
    })

    // Down: this instance's own limits, from a full bucket: 5 pass, then 429.
    await redisServer.kill()
    const started = performance.now()
    expect(await statuses(models, key, 7)).toEqual([200, 200, 200, 200, 200, 429, 429])
    expect(performance.now() - started).toBeLessThan(5000)
    expect(await readiness(gw.url)).toEqual({
      status: 200,
      body: {
        status: 'ready',
        checks: { database: 'ok', dataDir: 'ok', blobStore: 'ok', redis: 'failing' },
      },
    })
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: bearer(gw.key) })).text()
    expect(metrics).toMatch(/^imagegate_rate_limit_local_decisions_total 8$/m)

    // Back (empty: it keeps nothing on disk): shared limits again, without a restart.
    await redisServer.start()
    await vi.waitFor(
      async () => expect((await readiness(gw.url)).body.checks).toMatchObject({ redis: 'ok' }),
      { timeout: 10_000, interval: 200 },
    )
    // Past the second of local decisions that followed the last failure.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect(await statuses(models, key, 6)).toEqual([200, 200, 200, 200, 200, 429])
    expect(await bucketKeys()).toHaveLength(1)

    const lines = logLines(gw.output())
    expect(lines.filter((line) => line.level === 50).map((line) => line.msg)).toEqual([
      expect.stringMatching(/^Redis unreachable/),
    ])
    expect(lines.some((line) => /^Redis answers again/.test(String(line.msg)))).toBe(true)
  })
})
