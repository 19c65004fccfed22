import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { storeFiles } from '../../services/api/src/testing/store-files.ts'
import { bearer, logLines, startServer, stop } from '../support/processes.ts'
import { openSocket } from '../support/raw-http.ts'

let server: Awaited<ReturnType<typeof startServer>>
let dataDir: string
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-abort-'))
  server = await startServer({ IMAGEGATE_DATA_DIR: dataDir })
})
afterAll(async () => {
  if (server) {
    await stop(server.child)
  }
  rmSync(dataDir, { recursive: true, force: true })
})

const BOUNDARY = 'imagegate-abort-boundary'

async function requestsByStatus(route: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: bearer(server.key) })).text()
  const counts: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const match =
      /^imagegate_http_requests_total\{method="POST",route="([^"]+)",status="(\d+)"\} (\d+)/.exec(
        line,
      )
    if (match && match[1] === route) {
      counts[match[2] as string] = Number(match[3])
    }
  }
  return counts
}

describe('a client that hangs up mid-upload, in a real server process', () => {
  it('is counted as 499 and logged at info as the client’s, and leaves no temp file', async () => {
    const socket = await openSocket(server.url)
    socket.on('error', () => {})
    const part =
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="gone.png"\r\n` +
      'Content-Type: image/png\r\n\r\n'
    socket.write(
      [
        'POST /v1/assets HTTP/1.1',
        'Host: imagegate.test',
        `Authorization: Bearer ${server.key}`,
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}`,
        `X-Content-Sha256: ${'a'.repeat(64)}`,
        `Content-Length: ${10 * 1024 * 1024}`,
        '',
        part,
      ].join('\r\n'),
    )
    socket.write(Buffer.alloc(256 * 1024, 0x42))
    const blobs = path.join(dataDir, 'blobs')
    // The body is being stored: a temp file exists, then the client is gone.
    await vi.waitFor(() => expect(storeFiles(blobs).temp.length).toBeGreaterThan(0), {
      timeout: 10_000,
    })
    socket.destroy()

    await vi.waitFor(async () => expect(await requestsByStatus('/v1/assets')).toEqual({ 499: 1 }), {
      timeout: 10_000,
    })
    await vi.waitFor(() =>
      expect(storeFiles(blobs)).toEqual({ blobs: [], temp: [], quarantine: [] }),
    )
    const lines = logLines(server.output())
    const aborted = lines.filter(
      (line) => line.msg === 'client closed the connection before its request was read',
    )
    expect(aborted).toHaveLength(1)
    expect(aborted[0]?.level).toBe(30)
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([])
    const access = lines.find((line) => line.msg === 'request' && line.path === '/v1/assets')
    expect(access).toMatchObject({ status: 499 })
  })
})
