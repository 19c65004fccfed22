import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { auditDataDir } from '../../services/api/src/testing/data-dir-audit.ts'
import { noisePng } from '../../services/api/src/testing/images.ts'
import { storeFiles } from '../../services/api/src/testing/store-files.ts'
import { bearer, startServer, stop } from '../support/processes.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

const dirs: string[] = []
const children: { kill(signal: NodeJS.Signals): boolean; exitCode: number | null }[] = []
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGKILL')
    }
  }
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true })
  }
})

function freshDataDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-crash-'))
  dirs.push(dir)
  return dir
}

async function start(dataDir: string) {
  const server = await startServer({
    IMAGEGATE_DATA_DIR: dataDir,
    // GC with no grace, often: it runs while uploads land, and must never take their blobs.
    IMAGEGATE_GC_GRACE_MS: '0',
    IMAGEGATE_GC_INTERVAL_MS: '100',
  })
  children.push(server.child)
  return server
}

function uploadBody(bytes: Uint8Array) {
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'crash.png')
  return form
}

type Acknowledged = { id: string; contentHash: string }

/** Uploads distinct images until told to stop, keeping every upload the server acknowledged. */
async function uploadUntilStopped(
  url: string,
  key: string,
  label: string,
  acknowledged: Acknowledged[],
  refused: number[],
  control: { stopped: boolean },
) {
  for (let index = 0; !control.stopped; index++) {
    const bytes = await noisePng(`${label} ${index}`, 32)
    try {
      const response = await fetch(`${url}/v1/assets`, {
        method: 'POST',
        headers: { ...bearer(key), 'x-content-sha256': sha256(bytes) },
        body: uploadBody(bytes),
      })
      if (!response.ok) {
        refused.push(response.status)
        await response.body?.cancel()
        continue
      }
      const asset = (await response.json()) as Acknowledged
      expect(asset.contentHash).toBe(sha256(bytes))
      acknowledged.push({ id: asset.id, contentHash: asset.contentHash })
    } catch {
      // The server died under this request: it was never acknowledged.
    }
  }
}

describe('kill -9 during uploads (C7)', () => {
  it('loses no acknowledged upload and leaves no row without a valid blob', {
    timeout: 180_000,
  }, async () => {
    const dataDir = freshDataDir()
    const acknowledged: Acknowledged[] = []
    const refused: number[] = []
    const killedAfterMs: number[] = []
    for (let round = 0; round < 5; round++) {
      const server = await start(dataDir)
      const control = { stopped: false }
      const workers = Array.from({ length: 4 }, (_, worker) =>
        uploadUntilStopped(
          server.url,
          server.key,
          `round ${round} worker ${worker}`,
          acknowledged,
          refused,
          control,
        ),
      )
      const runMs = 300 + Math.round(Math.random() * 700)
      killedAfterMs.push(runMs)
      await sleep(runMs)
      const exited = new Promise((resolve) => server.child.once('exit', resolve))
      server.child.kill('SIGKILL')
      await exited
      control.stopped = true
      await Promise.all(workers)
    }
    const context = `kills after ${killedAfterMs.join(', ')} ms; ${acknowledged.length} acknowledged`
    expect(acknowledged.length, context).toBeGreaterThan(20)
    expect(refused, context).toEqual([])

    // A clean start sweeps what the crashes left, then every acknowledged upload must be there.
    const leftByCrashes = storeFiles(path.join(dataDir, 'blobs')).temp.length
    const server = await start(dataDir)
    await vi.waitFor(() => expect(storeFiles(path.join(dataDir, 'blobs')).temp).toEqual([]), {
      timeout: 10_000,
    })
    if (leftByCrashes > 0) {
      await vi.waitFor(() => expect(server.output()).toContain('left by an earlier crash'))
    }
    for (const { id, contentHash } of acknowledged) {
      const meta = await fetch(`${server.url}/v1/assets/${id}`, { headers: bearer(server.key) })
      expect(meta.status, `${id} (${context})`).toBe(200)
      const content = await fetch(`${server.url}/v1/assets/${id}/content`, {
        headers: bearer(server.key),
      })
      expect(content.status, `${id} (${context})`).toBe(200)
      expect(sha256(new Uint8Array(await content.arrayBuffer()))).toBe(contentHash)
    }
    await stop(server.child)

    const audit = auditDataDir(dataDir)
    expect(audit.integrity).toBe('ok')
    expect(audit.rowsWithoutValidBlob, context).toEqual([])
    const rowIds = new Set(audit.rows.map((row) => row.id))
    expect(
      acknowledged.filter(({ id }) => !rowIds.has(id)),
      context,
    ).toEqual([])
    expect(audit.files.temp).toEqual([])
    expect(audit.files.quarantine).toEqual([])
  })
})

describe('SIGTERM during an upload', () => {
  it('finishes the upload with 201, then exits 0 with the asset stored', async () => {
    const dataDir = freshDataDir()
    const server = await start(dataDir)
    const bytes = await noisePng('drained upload', 64)
    const boundary = 'imagegate-drain'
    const encoder = new TextEncoder()
    const parts = [
      encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.png"\r\n` +
          'Content-Type: image/png\r\n\r\n',
      ),
      ...[0, 1, 2, 3].map((quarter) =>
        bytes.subarray((quarter * bytes.length) >> 2, ((quarter + 1) * bytes.length) >> 2),
      ),
      encoder.encode(`\r\n--${boundary}--\r\n`),
    ]
    let sent = 0
    let signalledAt = -1
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (sent === parts.length) {
            controller.close()
            return
          }
          if (sent > 0) {
            await sleep(250)
          }
          controller.enqueue(parts[sent] as Uint8Array)
          sent += 1
          if (sent === 2) {
            // The request is in flight with part of its file: now the operator stops the server.
            await sleep(100)
            signalledAt = sent
            server.child.kill('SIGTERM')
          }
        },
      },
      { highWaterMark: 0 },
    )
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve))
    const response = await fetch(`${server.url}/v1/assets`, {
      method: 'POST',
      headers: {
        ...bearer(server.key),
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'x-content-sha256': sha256(bytes),
      },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(signalledAt).toBeGreaterThan(0)
    expect(signalledAt).toBeLessThan(parts.length)
    expect(response.status).toBe(201)
    const answeredAt = Date.now()
    const asset = (await response.json()) as Acknowledged
    expect(asset.contentHash).toBe(sha256(bytes))
    expect(await exited).toBe(0)
    // Idle keep-alive connections are closed as soon as they drain, not at their timeout.
    expect(Date.now() - answeredAt).toBeLessThan(2000)
    expect(server.output()).toContain('shutdown complete')

    const audit = auditDataDir(dataDir)
    expect(audit.integrity).toBe('ok')
    expect(audit.rows.map((row) => row.id)).toEqual([asset.id])
    expect(audit.rowsWithoutValidBlob).toEqual([])
  })
})
