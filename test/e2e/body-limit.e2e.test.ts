import { mkdtempSync, rmSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorBodySchema } from '../../services/api/src/schemas/error.ts'
import { startServer, stop } from '../support/processes.ts'
import { openSocket, readAnswer, residentBytes } from '../support/raw-http.ts'

const MiB = 1024 * 1024
const BODY_BYTES = 60 * MiB

let server: Awaited<ReturnType<typeof startServer>>
let dataDir: string
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-body-limit-'))
  server = await startServer({ IMAGEGATE_DATA_DIR: dataDir })
})
afterAll(async () => {
  if (server) {
    await stop(server.child)
  }
  rmSync(dataDir, { recursive: true, force: true })
})

/**
 * Writes the body until `total` bytes are sent, the server closes the connection, or its answer
 * has arrived (`answered`).
 */
async function pump(
  socket: Socket,
  total: number,
  frame: (chunk: Buffer) => Buffer[],
  answered: () => boolean,
) {
  const chunk = Buffer.alloc(MiB, 'a')
  chunk.write('{"prompt":"')
  let sent = 0
  while (sent < total && !socket.destroyed && socket.writable && !answered()) {
    let full = false
    for (const part of frame(chunk)) {
      full = !socket.write(part) || full
    }
    sent += chunk.length
    if (full && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('drain', resolve)
        socket.once('close', resolve)
      })
    }
  }
  return sent
}

async function sendHugeJson(route: string, chunked: boolean) {
  const socket = await openSocket(server.url)
  let answered = false
  const answer = readAnswer(socket, 60_000).finally(() => {
    answered = true
  })
  socket.write(
    [
      `POST ${route} HTTP/1.1`,
      'Host: imagegate.test',
      `Authorization: Bearer ${server.key}`,
      'Content-Type: application/json',
      chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${BODY_BYTES}`,
      '',
      '',
    ].join('\r\n'),
  )
  const sent = pump(
    socket,
    BODY_BYTES,
    (chunk) =>
      chunked
        ? [Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]
        : [chunk],
    () => answered,
  ).catch(() => 0)
  const result = await answer
  socket.destroy()
  return { ...result, sentBytes: await sent }
}

describe('JSON body limit in a real server process', () => {
  it('answers 60 MB JSON bodies 413 payload_too_large with resident memory growing < 16 MiB', async () => {
    const pid = server.child.pid as number
    // Warm-up: the routes, the validator and the error path are loaded before the baseline.
    await sendHugeJson('/v1/workspaces', false)
    await sendHugeJson('/v1/workspaces', true)
    await sleep(500)
    const before = residentBytes(pid)
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(pid))
    }, 20)
    const answers = await Promise.all([
      sendHugeJson('/v1/images/generations', false),
      sendHugeJson('/v1/skills/image-generate', true),
      sendHugeJson('/v1/workspaces', false),
      sendHugeJson('/v1/workspaces', true),
    ])
    clearInterval(sampler)
    peak = Math.max(peak, residentBytes(pid))
    for (const answer of answers) {
      expect(answer.status).toBe(413)
      const body = JSON.parse(answer.body) as { ok?: false; error: unknown }
      const { error } = ErrorBodySchema.parse({ error: body.error })
      expect(error.code).toBe('payload_too_large')
    }
    const growth = peak - before
    console.info(
      `body limit: RSS before ${(before / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ${(growth / MiB).toFixed(2)} MiB`,
    )
    expect(growth).toBeLessThan(16 * MiB)
  })
})
