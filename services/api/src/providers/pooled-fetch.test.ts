import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import busboy from 'busboy'
import { afterEach, describe, expect, it } from 'vitest'
import { failureFromStatus, postJson, postMultipart } from './http-errors.ts'
import { createPooledFetch } from './pooled-fetch.ts'
import { failureOf } from './testing/recording-fetch.ts'

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void

const servers: Server[] = []
let client: ReturnType<typeof createPooledFetch> | undefined

afterEach(async () => {
  await client?.close()
  client = undefined
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => handler(req, body, res))
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function pooled() {
  client = createPooledFetch({ connections: 4, keepAliveTimeout: 5_000 })
  return client.fetch
}

const post = (fetch: ReturnType<typeof pooled>, url: string, signal?: AbortSignal) =>
  postJson({
    provider: 'openai',
    fetch,
    url,
    headers: { authorization: 'Bearer sk-test' },
    body: { prompt: 'a lighthouse' },
    signal: signal ?? new AbortController().signal,
    clock: { now: () => new Date() },
    classifyError: (answer) => failureFromStatus('openai', answer.status, { message: 'x' }),
  })

describe('createPooledFetch', () => {
  it('sends the method, headers and body, and answers status, headers and the whole body', async () => {
    const seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {}
    const payload = Buffer.alloc(3_000_000, 0x61)
    const url = await serve((req, body, res) => {
      Object.assign(seen, { method: req.method, headers: req.headers, body })
      res.writeHead(201, { 'content-type': 'application/json', 'x-extra': 'yes' })
      // Many chunks, with a Content-Length.
      res.end(payload)
    })
    const fetch = pooled()
    const response = await fetch(`${url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: '{"prompt":"x"}',
    })
    expect(seen).toMatchObject({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: '{"prompt":"x"}',
    })
    expect(response.status).toBe(201)
    expect(response.ok).toBe(true)
    expect(response.headers.get('x-extra')).toBe('yes')
    expect(Buffer.from(await response.arrayBuffer()).equals(payload)).toBe(true)
  })

  it('reads a chunked body (no Content-Length) to the end', async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"data":[')
      setTimeout(() => res.end('1,2,3]}'), 10)
    })
    const json = await post(pooled(), url)
    expect(json).toEqual({ data: [1, 2, 3] })
  })

  it('follows redirects as fetch does', async () => {
    const url = await serve((req, body, res) => {
      if (req.url === '/old') {
        res.writeHead(307, { location: '/new' }).end()
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ body }))
      }
    })
    expect(await post(pooled(), `${url}/old`)).toEqual({ body: '{"prompt":"a lighthouse"}' })
  })

  it('classifies failures as the fetch-based client did', async () => {
    // Nothing listens there: never sent.
    const closed = await serve(() => {})
    servers.at(-1)?.close()
    const refused = await failureOf(post(pooled(), closed))
    expect(refused.kind).toBe('not_sent')

    // The connection breaks half-way through a 200: may have been processed.
    const url = await serve((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' })
      res.write('{"data":[{"b64_json":"iVBO')
      setTimeout(() => res.socket?.destroy(), 10)
    })
    const reset = await failureOf(post(pooled(), url))
    expect(reset.kind).toBe('ambiguous')

    // An error status keeps its classification.
    const busy = await serve((_req, _body, res) => {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{}}')
    })
    expect((await failureOf(post(pooled(), busy))).kind).toBe('unavailable')
  })

  it('sends a FormData body as multipart, with its boundary and a Content-Length', async () => {
    type Part = { name: string; value?: string; filename?: string; type?: string; sha256?: string }
    const seen: { headers?: IncomingMessage['headers']; parts: Part[] } = { parts: [] }
    const server = createServer((req, res) => {
      seen.headers = req.headers
      const parser = busboy({ headers: req.headers })
      parser.on('field', (name, value) => seen.parts.push({ name, value }))
      parser.on('file', (name, stream, info) => {
        const hash = createHash('sha256')
        stream.on('data', (chunk: Buffer) => hash.update(chunk))
        stream.on('end', () =>
          seen.parts.push({
            name,
            filename: info.filename,
            type: info.mimeType,
            sha256: hash.digest('hex'),
          }),
        )
      })
      parser.on('close', () => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[]}')
      })
      req.pipe(parser)
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/images/edits`

    // Every byte value, so that any text re-encoding of the file would show.
    const image = Uint8Array.from({ length: 70_000 }, (_, index) => (index * 7) % 256)
    const form = new FormData()
    form.append('model', 'gpt-image-1')
    form.append('prompt', 'add a hat')
    form.append('image[]', new Blob([image], { type: 'image/png' }), 'image-1.png')
    form.append('image[]', new Blob([image.subarray(1)], { type: 'image/webp' }), 'image-2.webp')

    const json = await postMultipart({
      provider: 'openai',
      fetch: pooled(),
      url,
      headers: { authorization: 'Bearer sk-test' },
      form,
      signal: new AbortController().signal,
      clock: { now: () => new Date() },
      classifyError: (answer) => failureFromStatus('openai', answer.status, { message: 'x' }),
    })
    expect(json).toEqual({ data: [] })
    expect(seen.headers?.['content-type']).toMatch(/^multipart\/form-data; boundary=\S+$/)
    expect(seen.headers?.authorization).toBe('Bearer sk-test')
    expect(Number(seen.headers?.['content-length'])).toBeGreaterThan(2 * 70_000)
    expect(seen.headers?.['transfer-encoding']).toBeUndefined()
    const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
    expect(seen.parts).toEqual([
      { name: 'model', value: 'gpt-image-1' },
      { name: 'prompt', value: 'add a hat' },
      { name: 'image[]', filename: 'image-1.png', type: 'image/png', sha256: sha256(image) },
      {
        name: 'image[]',
        filename: 'image-2.webp',
        type: 'image/webp',
        sha256: sha256(image.subarray(1)),
      },
    ])
  })

  it('leaves a content-type the caller set, as fetch does', async () => {
    let contentType: string | undefined
    const url = await serve((req, _body, res) => {
      contentType = req.headers['content-type']
      res.writeHead(204).end()
    })
    const form = new FormData()
    form.append('a', 'b')
    await pooled()(url, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=chosen' },
      body: form,
    })
    expect(contentType).toBe('multipart/form-data; boundary=chosen')
  })

  it('gives up when the signal aborts, as a timeout', async () => {
    const url = await serve(() => {})
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    const failure = await failureOf(post(pooled(), url, controller.signal))
    expect(failure.kind).toBe('timeout')
  })
})
