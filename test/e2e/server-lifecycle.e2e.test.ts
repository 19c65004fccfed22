import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createImagegateClient } from '@imagegate/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { bearer, logLines, repoRoot, startServer, stop } from '../support/processes.ts'

const dirs: string[] = []
function freshDataDir() {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'imagegate-e2e-')), 'nested', 'data')
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    rmSync(path.dirname(path.dirname(dir)), { recursive: true, force: true })
  }
})

describe('the server process', () => {
  it('creates its data dir on first start and serves the contract', async () => {
    const dataDir = freshDataDir()
    const server = await startServer({ IMAGEGATE_DATA_DIR: dataDir })
    try {
      expect(existsSync(path.join(dataDir, 'imagegate.db'))).toBe(true)
      const client = createImagegateClient({ baseUrl: server.url })
      const { data, response } = await client.GET('/readyz')
      expect(data?.status).toBe('ready')
      const requestId = response.headers.get('x-request-id')
      expect(requestId).toMatch(/^req_/)
      // The log line and the response travel on different pipes: wait for the line to arrive.
      await vi.waitFor(() => {
        const lines = logLines(server.output())
        expect(lines.find((line) => line.requestId === requestId)).toMatchObject({
          path: '/readyz',
          status: 200,
        })
      })
    } finally {
      await stop(server.child)
    }
  })

  it('drains an in-flight request on SIGTERM, then closes the database and exits 0', async () => {
    const dataDir = freshDataDir()
    const server = await startServer({ IMAGEGATE_DATA_DIR: dataDir })
    // A slow reader keeps a request in flight: the metrics body is read only after the signal.
    const inFlight = fetch(`${server.url}/metrics`, { headers: bearer(server.key) })
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve))
    const response = await inFlight
    server.child.kill('SIGTERM')
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('imagegate_http_requests_total')
    expect(await exited).toBe(0)
    expect(server.output()).toContain('shutdown complete')
    // Closing the last connection checkpoints WAL and removes the -wal file.
    expect(existsSync(path.join(dataDir, 'imagegate.db-wal'))).toBe(false)
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow()
  })

  it('refuses to start with one message listing every bad variable', () => {
    const result = spawnSync(
      path.join(repoRoot, 'node_modules/.bin/tsx'),
      ['services/api/src/main.ts'],
      {
        cwd: repoRoot,
        env: { ...process.env, PORT: 'http', IMAGEGATE_LOG_LEVEL: 'chatty' },
        encoding: 'utf8',
      },
    )
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('Invalid configuration')
    expect(result.stderr).toContain('PORT="http"')
    expect(result.stderr).toContain('IMAGEGATE_LOG_LEVEL="chatty"')
  })
})
