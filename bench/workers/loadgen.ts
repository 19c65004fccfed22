/**
 * A minimal closed-loop HTTP/1.1 GET load generator on raw sockets (keep-alive, no pipelining).
 *
 * Why not autocannon for everything: on one core autocannon tops out near 650 req/s for
 * 100 KiB answers (measured here: its client process at 100% CPU while the server idles), so it
 * would measure itself. This client only parses the status line and Content-Length and skips
 * the body's bytes without copying them; answers must carry Content-Length (or be 304).
 */
import { connect, type Socket } from 'node:net'
import type { LoadRun } from '../lib/loadgen.ts'
import { summarize } from '../lib/stats.ts'

type Input = {
  url: string
  connections: number
  headers?: Record<string, string>
  warmupMs: number
  durationMs: number
  repeats: number
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const target = new URL(input.url)
const request = Buffer.from(
  `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
    Object.entries(input.headers ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n',
)
const HEADER_END = Buffer.from('\r\n\r\n')

type Phase = { until: number; latencies: number[]; statuses: Record<string, number>; bytes: number }

/** One connection: send, read one answer, repeat until the phase ends. */
function lane(phase: Phase): Promise<number> {
  return new Promise((resolve) => {
    let errors = 0
    let socket: Socket
    let head: Buffer = Buffer.alloc(0)
    let bodyLeft = -1
    let sentAt = 0
    const next = () => {
      if (performance.now() >= phase.until) {
        socket.destroy()
        resolve(errors)
        return
      }
      head = Buffer.alloc(0)
      bodyLeft = -1
      sentAt = performance.now()
      socket.write(request)
    }
    const finish = (status: number) => {
      phase.latencies.push(performance.now() - sentAt)
      phase.statuses[status] = (phase.statuses[status] ?? 0) + 1
      next()
    }
    let status = 0
    const open = () => {
      socket = connect(Number(target.port), target.hostname)
      socket.setNoDelay(true)
      socket.on('connect', next)
      socket.on('data', (chunk: Buffer) => {
        let data: Buffer = chunk
        while (data.byteLength > 0) {
          if (bodyLeft < 0) {
            head = head.byteLength === 0 ? data : Buffer.concat([head, data])
            const end = head.indexOf(HEADER_END)
            if (end < 0) {
              return
            }
            const text = head.subarray(0, end).toString('latin1')
            status = Number(text.slice(9, 12))
            const length = /\r\ncontent-length:\s*(\d+)/i.exec(text)
            if (!length && status !== 304 && status !== 204) {
              throw new Error(`answer without Content-Length:\n${text}`)
            }
            bodyLeft = length ? Number(length[1]) : 0
            data = head.subarray(end + 4)
          }
          const taken = Math.min(bodyLeft, data.byteLength)
          bodyLeft -= taken
          phase.bytes += taken
          data = data.subarray(taken)
          if (bodyLeft === 0) {
            if (data.byteLength > 0) {
              throw new Error('bytes after the answer: pipelining is not expected')
            }
            finish(status)
            return
          }
        }
      })
      socket.on('error', () => {
        errors++
      })
      socket.on('close', () => {
        if (performance.now() < phase.until) {
          // The server closed the connection: count it and reconnect.
          errors++
          open()
        }
      })
    }
    open()
  })
}

async function runPhase(durationMs: number): Promise<LoadRun> {
  const started = performance.now()
  const phase: Phase = { until: started + durationMs, latencies: [], statuses: {}, bytes: 0 }
  const errors = await Promise.all(Array.from({ length: input.connections }, () => lane(phase)))
  const elapsedMs = performance.now() - started
  return {
    rps: (phase.latencies.length / elapsedMs) * 1000,
    count: phase.latencies.length,
    elapsedMs,
    latencyMs: summarize(phase.latencies),
    statusCounts: phase.statuses,
    errors: errors.reduce((sum, value) => sum + value, 0),
    bytes: phase.bytes,
  }
}

const warmup = await runPhase(input.warmupMs)
const runs: LoadRun[] = []
for (let index = 0; index < input.repeats; index++) {
  runs.push(await runPhase(input.durationMs))
}
const totalOps = runs.reduce((sum, run) => sum + run.count, warmup.count)
console.log(JSON.stringify({ runs, totalOps }))
