import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noisePng } from '../../services/api/src/testing/images.ts'
import {
  objectExists as bucketHas,
  createS3TestClient,
} from '../../services/api/src/testing/s3-objects.ts'
import { type S3TestServer, startS3TestServer } from '../../services/api/src/testing/s3-server.ts'
import { bearer, startServer, stop } from '../support/processes.ts'
import { s3Env } from '../support/s3-env.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const GC_GRACE_MS = 4000

let s3: S3TestServer
let client: ReturnType<typeof createS3TestClient>
let server: Awaited<ReturnType<typeof startServer>>
let prefix: string
let dataDir: string

beforeAll(async () => {
  s3 = await startS3TestServer()
  client = createS3TestClient(s3)
  dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-s3-e2e-'))
  const settings = s3Env(s3)
  prefix = settings.prefix
  server = await startServer({
    IMAGEGATE_DATA_DIR: dataDir,
    ...settings.env,
    IMAGEGATE_GC_GRACE_MS: String(GC_GRACE_MS),
    IMAGEGATE_GC_INTERVAL_MS: '250',
  })
})

afterAll(async () => {
  if (server) {
    await stop(server.child)
  }
  client?.destroy()
  await s3?.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Whether the bucket holds the blob's object, asked of the S3 server directly. */
function objectExists(contentHash: string): Promise<boolean> {
  return bucketHas(client, s3.bucket, `${prefix}sha256/${contentHash}`)
}

function get(route: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${route}`, { headers: { ...bearer(server.key), ...headers } })
}

describe('a server whose blobs are in S3 (s3rver)', () => {
  it('starts without the AWS SDK Node version warning and reports the bucket ready', async () => {
    expect(server.output()).not.toMatch(/NodeVersionSupportWarning/)
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { database: 'ok', dataDir: 'ok', blobStore: 'ok' },
    })
  })

  it('uploads, lists, serves (Range, ETag, 304) and deletes; GC takes the object after its grace', async () => {
    const bytes = await noisePng('s3 upload', 48)
    const contentHash = sha256(bytes)
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'up.png')
    form.append('folderPath', '/s3')
    const uploadedAt = Date.now()
    const uploaded = await fetch(`${server.url}/v1/assets`, {
      method: 'POST',
      headers: { ...bearer(server.key), 'x-content-sha256': contentHash },
      body: form,
    })
    expect(uploaded.status).toBe(201)
    const asset = (await uploaded.json()) as { id: string; contentHash: string }
    expect(asset.contentHash).toBe(contentHash)
    expect(await objectExists(contentHash)).toBe(true)

    const listed = (await (await get('/v1/assets?folderPath=/s3')).json()) as {
      data: { id: string }[]
    }
    expect(listed.data.map((row) => row.id)).toEqual([asset.id])

    const full = await get(`/v1/assets/${asset.id}/content`)
    expect(full.status).toBe(200)
    expect(full.headers.get('etag')).toBe(`"${contentHash}"`)
    expect(new Uint8Array(await full.arrayBuffer())).toEqual(new Uint8Array(bytes))

    const part = await get(`/v1/assets/${asset.id}/content`, { range: 'bytes=8-23' })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 8-23/${bytes.byteLength}`)
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(new Uint8Array(bytes.subarray(8, 24)))

    const tail = await get(`/v1/assets/${asset.id}/content`, { range: 'bytes=-10' })
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(
      new Uint8Array(bytes.subarray(bytes.byteLength - 10)),
    )

    const revalidated = await get(`/v1/assets/${asset.id}/content`, {
      'if-none-match': `"${contentHash}"`,
    })
    expect(revalidated.status).toBe(304)

    const deleted = await fetch(`${server.url}/v1/assets/${asset.id}`, {
      method: 'DELETE',
      headers: bearer(server.key),
    })
    expect(deleted.status).toBe(204)
    expect((await get(`/v1/assets/${asset.id}`)).status).toBe(404)

    // Unreferenced now, but written less than the grace period ago: GC passes (every 250 ms)
    // keep it. (S3 stamps objects to the second, hence the margin.)
    await sleep(1000)
    if (Date.now() - uploadedAt < GC_GRACE_MS - 1500) {
      expect(await objectExists(contentHash)).toBe(true)
    }
    // Past the grace period, the next pass deletes it.
    const deadline = Date.now() + GC_GRACE_MS + 10_000
    while ((await objectExists(contentHash)) && Date.now() < deadline) {
      await sleep(250)
    }
    expect(await objectExists(contentHash)).toBe(false)
  })

  it('stores a generation in S3 and serves its image from there', async () => {
    const generated = await fetch(`${server.url}/v1/skills/image-generate`, {
      method: 'POST',
      headers: { ...bearer(server.key), 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lighthouse in an S3 bucket' }),
    })
    expect(generated.status).toBe(200)
    const { result } = (await generated.json()) as {
      result: { assetId: string; contentHash: string; sizeBytes: number }
    }
    expect(await objectExists(result.contentHash)).toBe(true)
    const content = await get(`/v1/assets/${result.assetId}/content`)
    expect(content.status).toBe(200)
    const served = new Uint8Array(await content.arrayBuffer())
    expect(served.byteLength).toBe(result.sizeBytes)
    expect(sha256(served)).toBe(result.contentHash)
  })
})

describe('a server whose bucket cannot be reached at start', () => {
  it('refuses to start with one message naming the bucket, before touching its data dir', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-s3-refused-'))
    try {
      const settings = s3Env({ ...s3, endpoint: 'http://127.0.0.1:1' })
      const started = startServer({ IMAGEGATE_DATA_DIR: path.join(dir, 'data'), ...settings.env })
      await expect(started).rejects.toThrow(
        `imagegate: not started. A backend is unavailable:\n  - blobStore (s3://${s3.bucket}/${settings.prefix} at http://127.0.0.1:1): The object store cannot be reached: `,
      )
      expect(existsSync(path.join(dir, 'data'))).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
