import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'

/** A plain TCP connection to an http:// URL's host and port, for requests no client would send. */
export function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket))
    socket.once('error', reject)
  })
}

export type RawAnswer = {
  status: number
  headers: Record<string, string>
  body: string
  /** Milliseconds from the call until the server closed the connection (or the answer was whole). */
  elapsedMs: number
  closed: boolean
}

/**
 * The first answer on `socket`: read until its Content-Length is complete or the server closes
 * the connection. Write errors (the server closed while a body was still being sent) are ignored:
 * the answer is what counts.
 */
export function readAnswer(socket: Socket, timeoutMs = 30_000): Promise<RawAnswer> {
  const started = performance.now()
  socket.on('error', () => {})
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeoutMs} ms; got: ${received.toString('latin1')}`))
    }, timeoutMs)
    const finish = (closed: boolean) => {
      const answer = parseAnswer(received)
      if (answer === undefined) {
        if (closed) {
          clearTimeout(timer)
          resolve({
            status: 0,
            headers: {},
            body: '',
            elapsedMs: performance.now() - started,
            closed,
          })
        }
        return
      }
      clearTimeout(timer)
      socket.off('data', onData)
      resolve({ ...answer, elapsedMs: performance.now() - started, closed })
    }
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      finish(false)
    }
    socket.on('data', onData)
    socket.once('close', () => finish(true))
  })
}

/** Milliseconds until the server closes `socket` (rejects past `timeoutMs`). */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<number> {
  const started = performance.now()
  socket.on('error', () => {})
  socket.resume()
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      resolve(0)
      return
    }
    const timer = setTimeout(
      () => reject(new Error(`the socket was still open after ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(performance.now() - started)
    })
  })
}

function parseAnswer(received: Buffer) {
  const end = received.indexOf('\r\n\r\n')
  if (end === -1) {
    return undefined
  }
  const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = Number(headers['content-length'] ?? 0)
  const body = received.subarray(end + 4)
  if (body.length < length) {
    return undefined
  }
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: body.subarray(0, length).toString('utf8'),
  }
}

/** Resident memory of a process, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) {
    throw new Error(`no VmRSS for process ${pid}`)
  }
  return Number(match[1]) * 1024
}
