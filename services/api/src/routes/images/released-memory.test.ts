import { createHash } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { serveImagegate } from '../../http/server/serve.ts'
import type { Fetch } from '../../providers/http-errors.ts'
import { MIN_RELEASED_BYTES } from '../../storage/release-buffers.ts'
import { noisePng } from '../../testing/images.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

/**
 * A generation's large buffers (the provider's answer, the decoded image) are released once its
 * answer is written (storage/release-buffers.ts). Over a real socket, since only the Node server
 * says when an answer has been written: the answers must be whole, and the provider's answer
 * detached afterwards, except where another request shares the outcome.
 */

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

let t: TestApp | undefined
let server: Server | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
  await t?.close()
  t = undefined
})

/** imagegate on a socket, its OpenAI upstream answering `png` and keeping each answer it gave. */
async function serving(png: Buffer) {
  const answers: ArrayBuffer[] = []
  let calls = 0
  const upstream: Fetch = async () => {
    calls++
    const body = Buffer.from(
      JSON.stringify({ created: 1, data: [{ b64_json: png.toString('base64') }] }),
    )
    return {
      ok: true,
      status: 200,
      headers: new Headers({ 'content-type': 'application/json' }),
      // A fresh buffer per answer, as a real body is; kept to see what becomes of it.
      arrayBuffer: async () => {
        const answer = new Uint8Array(body).buffer
        answers.push(answer)
        return answer
      },
    }
  }
  t = await createTestApp({ env: { IMAGEGATE_OPENAI_API_KEY: 'sk-test' }, fetch: upstream })
  const app = t
  const base = await new Promise<string>((resolve) => {
    server = serveImagegate(app.hono, app.deps, { port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve(`http://127.0.0.1:${(info as AddressInfo).port}`),
    )
  })
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${app.key}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify(body),
    })
    const answer = (await res.json()) as Record<string, unknown>
    expect({ status: res.status, answer }).toMatchObject({ status: 200 })
    return answer
  }
  return { answers, calls: () => calls, post }
}

/** Waits until `released` holds (the server's 'finish' may come just after the client's end). */
async function eventually(released: () => boolean) {
  for (let waited = 0; !released() && waited < 2000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return released()
}

describe('memory of a generation', () => {
  it('is released once the answer is written, and the answer is whole', async () => {
    const png = await noisePng('released', 256)
    expect(png.byteLength).toBeGreaterThan(MIN_RELEASED_BYTES)
    const { answers, post } = await serving(png)
    const answer = await post('/v1/images/generations', { model: 'gpt-image-1', prompt: 'a kite' })
    const [image] = answer.data as { b64_json: string; content_hash: string }[]
    const bytes = Buffer.from(image?.b64_json ?? '', 'base64')
    expect(bytes.equals(png)).toBe(true)
    expect(image?.content_hash).toBe(sha256(png))
    expect(answers).toHaveLength(1)
    expect(await eventually(() => answers[0]?.byteLength === 0)).toBe(true)
  })

  it('is released after a skill answer and a url answer too', async () => {
    const png = await noisePng('skill', 256)
    const { answers, post } = await serving(png)
    const skill = await post('/v1/skills/image-generate', {
      prompt: 'a kite',
      model: 'gpt-image-1',
    })
    expect(skill).toMatchObject({ ok: true, result: { contentHash: sha256(png) } })
    const linked = await post('/v1/images/generations', {
      model: 'gpt-image-1',
      prompt: 'a kite',
      response_format: 'url',
    })
    expect((linked.data as { url: string }[])[0]?.url).toMatch(/signature=/)
    expect(answers).toHaveLength(2)
    expect(await eventually(() => answers.every((body) => body.byteLength === 0))).toBe(true)
  })

  it('is released under an Idempotency-Key, whose stored answer replays whole', async () => {
    const png = await noisePng('kept', 256)
    const { answers, calls, post } = await serving(png)
    const body = { model: 'gpt-image-1', prompt: 'a kite' }
    const key = { 'idempotency-key': 'kite-1' }
    const first = await post('/v1/images/generations', body, key)
    expect(await eventually(() => answers[0]?.byteLength === 0)).toBe(true)
    const replay = await post('/v1/images/generations', body, key)
    expect(calls()).toBe(1)
    expect(replay).toEqual(first)
    const [image] = replay.data as { b64_json: string }[]
    expect(Buffer.from(image?.b64_json ?? '', 'base64').equals(png)).toBe(true)
  })

  it('is left to the garbage collector when identical seeded requests share the outcome', async () => {
    const png = await noisePng('shared', 256)
    const { answers, calls, post } = await serving(png)
    const body = { model: 'gpt-image-1', prompt: 'a kite', seed: 7 }
    const both = await Promise.all([
      post('/v1/images/generations', body),
      post('/v1/images/generations', body),
    ])
    expect(calls()).toBe(1)
    for (const answer of both) {
      const [image] = answer.data as { b64_json: string }[]
      expect(Buffer.from(image?.b64_json ?? '', 'base64').equals(png)).toBe(true)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(answers[0]?.byteLength).toBeGreaterThan(0)
  })
})
