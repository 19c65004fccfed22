import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { noisePng } from '../../services/api/src/testing/images.ts'
import { type S3TestServer, startS3TestServer } from '../../services/api/src/testing/s3-server.ts'
import { bearer, startServer, stop } from '../support/processes.ts'
import { s3Env } from '../support/s3-env.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

/** An answer's status, body and how long it took. */
async function timed(request: Promise<Response>) {
  const started = performance.now()
  const response = await request
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    // biome-ignore lint/suspicious/noExplicitAny: tests read error and success bodies alike
    body: (text ? JSON.parse(text) : undefined) as Record<string, any> | undefined,
    ms: performance.now() - started,
  }
}

describe('the object store going away under a running server (SQLite metadata)', () => {
  it('answers 503 for content and writes, keeps serving metadata, and recovers by itself', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'imagegate-s3-outage-'))
    mkdirSync(path.join(directory, 's3'))
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }))
    // Objects in a directory of the test's, so the server can come back with them.
    const objects = path.join(directory, 's3')
    let s3: S3TestServer = await startS3TestServer({ directory: objects })
    cleanups.push(() => s3.stop())
    const sameAsBefore = {
      directory: objects,
      bucket: s3.bucket,
      port: Number(new URL(s3.endpoint).port),
    }

    const server = await startServer({
      IMAGEGATE_DATA_DIR: path.join(directory, 'data'),
      ...s3Env(s3).env,
    })
    cleanups.push(() => stop(server.child))
    const headers = bearer(server.key)
    const upload = async (seed: string) => {
      const bytes = await noisePng(seed, 40)
      const form = new FormData()
      form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'x.png')
      return timed(
        fetch(`${server.url}/v1/assets`, {
          method: 'POST',
          headers: { ...headers, 'x-content-sha256': sha256(bytes) },
          body: form,
        }),
      )
    }
    const generate = () =>
      timed(
        fetch(`${server.url}/v1/images/generations`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'a harbour during an outage', size: '256x256' }),
        }),
      )
    const get = (route: string, extra: Record<string, string> = {}) =>
      timed(fetch(`${server.url}${route}`, { headers: { ...headers, ...extra } }))
    const balance = async () =>
      (await get('/v1/workspaces/default/usage')).body?.balance as number | undefined

    const before = await upload('stored before the outage')
    expect(before.status).toBe(201)
    const asset = before.body as { id: string; contentHash: string }
    expect((await generate()).status).toBe(200)
    const balanceBefore = await balance()

    await s3.stop()

    // Writes and content reads: 503 upstream_unavailable, promptly, retry advised.
    const refusedUpload = await upload('during the outage')
    const refusedContent = await get(`/v1/assets/${asset.id}/content`)
    const refusedGeneration = await generate()
    for (const [name, answer] of [
      ['upload', refusedUpload],
      ['content', refusedContent],
      ['generation', refusedGeneration],
    ] as const) {
      expect(answer.status, name).toBe(503)
      expect(answer.body?.error, name).toMatchObject({
        type: 'upstream_error',
        code: 'upstream_unavailable',
        reason: 'object_store_unavailable',
      })
      expect(answer.headers.get('x-should-retry'), name).toBe('true')
      expect(answer.ms, name).toBeLessThan(10_000)
    }
    // The failed generation is recorded as such, and charged nothing.
    const generations = await get('/v1/generations?limit=1')
    expect(generations.body?.data[0]).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_unavailable' },
    })
    expect(await balance()).toBe(balanceBefore)

    // Metadata needs no object store; neither does a revalidation by ETag.
    const listed = await get('/v1/assets')
    expect(listed.status).toBe(200)
    expect(listed.body?.data.map((row: { id: string }) => row.id)).toContain(asset.id)
    expect((await get(`/v1/assets/${asset.id}`)).status).toBe(200)
    const revalidated = await get(`/v1/assets/${asset.id}/content`, {
      'if-none-match': `"${asset.contentHash}"`,
    })
    expect(revalidated.status).toBe(304)
    const notReady = await timed(fetch(`${server.url}/readyz`))
    expect(notReady.status).toBe(503)
    expect(notReady.body).toEqual({
      status: 'not_ready',
      checks: { database: 'ok', dataDir: 'ok', blobStore: 'failing' },
    })
    expect(server.output()).not.toMatch(/"code":"internal_error"/)

    // The store comes back where it was: the same process serves again, no restart.
    s3 = await startS3TestServer(sameAsBefore)
    expect((await timed(fetch(`${server.url}/readyz`))).status).toBe(200)
    const content = await fetch(`${server.url}/v1/assets/${asset.id}/content`, { headers })
    expect(content.status).toBe(200)
    expect(sha256(new Uint8Array(await content.arrayBuffer()))).toBe(asset.contentHash)
    expect((await upload('during the outage')).status).toBe(201)
    expect((await generate()).status).toBe(200)
  })
})
