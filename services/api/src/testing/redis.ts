import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import type { Redis } from 'ioredis'

/** The machine's Redis, as scripts/setup.sh provides it. Tests keep to their own key prefix. */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379'

/** A key prefix no other test run uses: `imagegate-test:<random>:`. */
export function uniqueKeyPrefix(): string {
  return `imagegate-test:${randomUUID().slice(0, 8)}:`
}

/** Every key under `prefix` (SCAN, never KEYS: the shared server has other tests' keys). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    found.push(...keys)
    cursor = next
  } while (cursor !== '0')
  return found
}

export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix)
  if (keys.length > 0) {
    await redis.del(...keys)
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A redis-server of a test's own, which the test may kill, pause and start again. */
export type OwnRedisServer = {
  url: string
  port: number
  /** SIGKILL: gone at once, its data with it (it keeps none on disk). */
  kill(): Promise<void>
  /** Starts it again on the same port. */
  start(): Promise<void>
  /** SIGSTOP / SIGCONT: connections stay open, commands get no answer. */
  pause(): void
  resume(): void
}

/**
 * Debian's redis-server on a free loopback port, with no persistence; it exits with the test
 * process (it is killed on exit and by `kill`).
 */
export async function startOwnRedisServer(): Promise<OwnRedisServer> {
  const port = await freePort()
  let child: ChildProcess | undefined

  async function start(): Promise<void> {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = started
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start:\n${output}`)),
        10_000,
      )
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer)
          resolve()
        }
      }
      started.stdout?.on('data', onData)
      started.stderr?.on('data', onData)
      started.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${output}`))
      })
    })
    started.removeAllListeners('exit')
  }

  async function kill(): Promise<void> {
    const running = child
    if (!running || running.exitCode !== null || running.signalCode !== null) {
      return
    }
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGCONT')
      running.kill('SIGKILL')
    })
  }

  process.once('exit', () => child?.kill('SIGKILL'))
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  }
}
