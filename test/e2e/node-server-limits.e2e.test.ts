import { mkdtempSync, rmSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ErrorBodySchema } from '../../services/api/src/schemas/error.ts'
import { bearer, startServer, stop } from '../support/processes.ts'
import { closedWithin, openSocket, type RawAnswer, readAnswer } from '../support/raw-http.ts'

/** Short limits, so each is seen to act within a test's time. */
const HEADERS_TIMEOUT_MS = 1000
const BODY_RATE_WINDOW_MS = 1000
const KEEP_ALIVE_TIMEOUT_MS = 1000
const MAX_CONNECTIONS = 12

let server: Awaited<ReturnType<typeof startServer>>
let dataDir: string
const sockets: Socket[] = []
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-node-server-'))
  server = await startServer({
    IMAGEGATE_DATA_DIR: dataDir,
    IMAGEGATE_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    IMAGEGATE_REQUEST_TIMEOUT_MS: '30000',
    IMAGEGATE_BODY_MIN_BYTES_PER_SECOND: '1024',
    IMAGEGATE_BODY_RATE_WINDOW_MS: String(BODY_RATE_WINDOW_MS),
    IMAGEGATE_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    IMAGEGATE_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  })
})
afterEach(() => {
  for (const socket of sockets.splice(0)) {
    socket.destroy()
  }
})
afterAll(async () => {
  if (server) {
    await stop(server.child)
  }
  rmSync(dataDir, { recursive: true, force: true })
})

async function socket(): Promise<Socket> {
  const opened = await openSocket(server.url)
  opened.on('error', () => {})
  sockets.push(opened)
  return opened
}

/** Writes one byte of `text` every `everyMs` until the socket closes. */
async function trickle(target: Socket, text: string, everyMs: number) {
  for (const byte of Buffer.from(text)) {
    if (target.destroyed || !target.writable) {
      return
    }
    target.write(Buffer.of(byte))
    await sleep(everyMs)
  }
}

/** The one error shape, with the request id the answer's header carries. */
function expectErrorShape(answer: RawAnswer, status: number, code: string) {
  expect(answer.status).toBe(status)
  expect(answer.headers['content-type']).toMatch(/^application\/json/)
  const { error } = ErrorBodySchema.parse(JSON.parse(answer.body))
  expect(error.code).toBe(code)
  expect(error.requestId).toBe(answer.headers['x-request-id'])
  expect(answer.headers.connection).toBe('close')
}

describe('slow, idle and too many clients (real sockets)', () => {
  it('closes a socket sending its headers a byte at a time within the headers timeout, with a 408', async () => {
    const slow = await socket()
    const answer = readAnswer(slow, 10_000)
    void trickle(slow, `GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-Slow: y\r\n'.repeat(100)}`, 100)
    const refused = await answer
    // The headers timeout, plus at most one check interval (a quarter of it) and some slack.
    expect(refused.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS * 0.9)
    expect(refused.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS * 2.5)
    expectErrorShape(refused, 408, 'request_timeout')
    expect(await closedWithin(slow, 1000)).toBeLessThan(1000)
  })

  it('closes an upload arriving slower than the minimum transfer rate', async () => {
    const slow = await socket()
    const boundary = 'slow-boundary'
    slow.write(
      [
        'POST /v1/assets HTTP/1.1',
        'Host: x',
        `Authorization: ${bearer(server.key).authorization}`,
        `Content-Type: multipart/form-data; boundary=${boundary}`,
        `X-Content-Sha256: ${'b'.repeat(64)}`,
        'Content-Length: 100000',
        '',
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.png"\r\n`,
        '',
      ].join('\r\n'),
    )
    const started = performance.now()
    void trickle(slow, 'x'.repeat(10_000), 50)
    await closedWithin(slow, 5 * BODY_RATE_WINDOW_MS)
    // Two windows at most: the one the body started in, and the first full one below the rate.
    expect(performance.now() - started).toBeLessThan(3 * BODY_RATE_WINDOW_MS + 500)
  })

  it('lets a body at a sound rate through', async () => {
    const steady = await socket()
    const body = JSON.stringify({ name: 'steady', initialCredits: 1 })
    steady.write(
      [
        'POST /v1/workspaces HTTP/1.1',
        'Host: x',
        `Authorization: ${bearer(server.key).authorization}`,
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        '',
        '',
      ].join('\r\n'),
    )
    const answer = readAnswer(steady)
    // Slower than one window in total, each window well above 1 KiB/s for its size.
    steady.write(body.slice(0, 10))
    await sleep(300)
    steady.write(body.slice(10))
    expect((await answer).status).toBe(201)
  })

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const idle = await socket()
    const answer = readAnswer(idle)
    idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    const first = await answer
    expect(first.status).toBe(200)
    expect(first.closed).toBe(false)
    const closedAfter = await closedWithin(idle, KEEP_ALIVE_TIMEOUT_MS * 4)
    expect(closedAfter).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS * 2.5)
  })

  it('refuses connections past the cap while the others stay open', async () => {
    const held: Socket[] = []
    for (let index = 0; index < MAX_CONNECTIONS; index++) {
      const open = await socket()
      // Something in flight keeps each counted: a request whose headers are not complete.
      open.write('GET /healthz HTTP/1.1\r\n')
      held.push(open)
    }
    await sleep(100)
    const extra = await socket()
    expect(await closedWithin(extra, 500)).toBeLessThan(500)
    expect(held.every((open) => !open.destroyed)).toBe(true)
    for (const open of held) {
      open.destroy()
    }
    await sleep(200)
    const afterwards = await socket()
    const answer = readAnswer(afterwards)
    afterwards.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await answer).status).toBe(200)
  })
})

describe('requests Node’s parser refuses answer in the one error shape (raw sockets)', () => {
  async function send(raw: string): Promise<RawAnswer> {
    const target = await socket()
    const answer = readAnswer(target)
    target.write(raw)
    return answer
  }

  it('431 for a 100 KB header', async () => {
    const answer = await send(
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`,
    )
    expectErrorShape(answer, 431, 'headers_too_large')
  })

  it('431 for a 60 KB URL', async () => {
    const answer = await send(`GET /v1/assets?q=${'a'.repeat(60_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)
    expectErrorShape(answer, 431, 'headers_too_large')
  })

  it('400 for Content-Length together with Transfer-Encoding', async () => {
    const answer = await send(
      'POST /v1/workspaces HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    )
    expectErrorShape(answer, 400, 'invalid_request')
  })

  it('400 for bad characters in a header', async () => {
    const answer = await send('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\u0001: y\r\n\r\n')
    expectErrorShape(answer, 400, 'invalid_request')
  })

  it('counts them in /metrics', async () => {
    await send(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`)
    const text = await (
      await fetch(`${server.url}/metrics`, { headers: bearer(server.key) })
    ).text()
    expect(text).toMatch(
      /imagegate_http_requests_total\{method="unparsed",route="unparsed",status="431"\} [1-9]/,
    )
  })
})
