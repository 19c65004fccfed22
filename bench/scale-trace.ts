/**
 * `pnpm exec tsx bench/scale-trace.ts [--n=30] [--phases=generation,upload,load,floors]
 * [--load-ms=3000] [--cpu-prof]`: where a generation and an upload spend their
 * time on the scaled setup (PostgreSQL, Redis, s3rver, as bench/scale.ts starts them). The
 * scaled imagegate runs with bench/lib/io-trace.mjs preloaded, which records every PostgreSQL
 * query, pool checkout, S3 command and Redis command; requests are sent one at a time, so each
 * request's records are its own. Prints, per request kind, the round trips per request with
 * their time, the time spent waiting on any backend, and the floors: the same SDK's PUT, HEAD
 * and copy of objects of the same sizes against the same s3rver, with nothing in front.
 * `--cpu-prof` writes the server's V8 profile to bench/.tmp/prof (see profile-summary.ts).
 * Not a suite of `pnpm bench`: a diagnosis, not a target.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createBarePutter } from '../services/api/src/testing/s3-objects.ts'
import { distinctPngs } from '../test/fakes/distinct-pngs.ts'
import { keepAlive, send, sendUpload } from './lib/http.ts'
import { photoPool } from './lib/photo-pool.ts'
import { distinctUpload, photoUploadPool } from './lib/photo-uploads.ts'
import {
  CLIENT_CORE,
  cpuMsOf,
  freePort,
  type Imagegate,
  repoRoot,
  startImagegate,
  startService,
} from './lib/procs.ts'
import { median, round, summarize } from './lib/stats.ts'
import { type S3Target, withSharedBackends } from './scale.ts'

type TraceEvent = { kind: string; label: string; start: number; ms: number; rows?: number }
type Traced = { clientMs: number; events: TraceEvent[] }

const n = Number(process.argv.find((arg) => arg.startsWith('--n='))?.slice(4) ?? 30)
const phases = new Set(
  (
    process.argv.find((arg) => arg.startsWith('--phases='))?.slice(9) ??
    'generation,upload,load,floors'
  ).split(','),
)
const loadMs = Number(process.argv.find((arg) => arg.startsWith('--load-ms='))?.slice(10) ?? 3000)
const cpuProfile = process.argv.includes('--cpu-prof')
const log = (message: string) => console.error(`[scale-trace] ${message}`)

async function dump(port: number): Promise<TraceEvent[]> {
  const reply = await fetch(`http://127.0.0.1:${port}/dump`)
  return (await reply.json()) as TraceEvent[]
}

/** Backend time as a union of intervals: what the request waited for, overlaps counted once. */
function busyMs(events: TraceEvent[]): number {
  const spans = events
    .filter((event) => event.kind !== 'http')
    .map((event) => [event.start, event.start + event.ms] as const)
    .sort((a, b) => a[0] - b[0])
  let total = 0
  let end = Number.NEGATIVE_INFINITY
  for (const [from, to] of spans) {
    if (to <= end) {
      continue
    }
    total += to - Math.max(from, end)
    end = to
  }
  return total
}

/** Per kind and label: calls per request and time per request, medians over the requests. */
function profile(traced: Traced[]) {
  const labels = new Set(
    traced.flatMap((one) =>
      one.events.filter((e) => e.kind !== 'http').map((e) => `${e.kind}\t${e.label}`),
    ),
  )
  const rows = [...labels].map((key) => {
    const perRequest = traced.map((one) =>
      one.events.filter((event) => `${event.kind}\t${event.label}` === key),
    )
    const callMs = perRequest.flat().map((event) => event.ms)
    return {
      kind: key.split('\t')[0],
      label: key.split('\t')[1],
      callsPerRequest: round(
        perRequest.reduce((sum, list) => sum + list.length, 0) / traced.length,
      ),
      callMsP50: round(median(callMs), 3),
      msPerRequestP50: round(median(perRequest.map((list) => list.reduce((s, e) => s + e.ms, 0)))),
    }
  })
  rows.sort((a, b) => b.msPerRequestP50 - a.msPerRequestP50)
  const serverMs = traced.map((one) => one.events.find((e) => e.kind === 'http')?.ms ?? 0)
  const counted = (kind: string) =>
    round(median(traced.map((one) => one.events.filter((event) => event.kind === kind).length)), 1)
  return {
    requests: traced.length,
    clientMs: summarize(traced.map((one) => one.clientMs)),
    serverMs: summarize(serverMs),
    backendWaitMs: summarize(traced.map((one) => busyMs(one.events))),
    roundTrips: {
      pg: counted('pg'),
      pgCheckout: counted('pg-checkout'),
      s3: counted('s3'),
      redis: counted('redis'),
    },
    rows,
  }
}

/** Per kind and label under load: calls per upload, and each call's latency. */
function callsUnderLoad(events: TraceEvent[], requests: number) {
  const byLabel = new Map<string, number[]>()
  for (const event of events) {
    const key = `${event.kind} ${event.label.slice(0, 60)}`
    byLabel.set(key, [...(byLabel.get(key) ?? []), event.ms])
  }
  return [...byLabel].map(([label, ms]) => ({
    label,
    perRequest: round(ms.length / requests, 2),
    ms: summarize(ms),
  }))
}

/** One request's records in order, for reading: offset from the request's start, duration. */
function timeline(one: Traced): string[] {
  const http = one.events.find((event) => event.kind === 'http')
  const zero = http?.start ?? one.events[0]?.start ?? 0
  return [...one.events]
    .sort((a, b) => a.start - b.start)
    .map(
      (event) =>
        `${round(event.start - zero, 2)
          .toFixed(2)
          .padStart(8)} +${round(event.ms, 2)
          .toFixed(2)
          .padStart(7)}  ${event.kind.padEnd(11)} ${event.label}`,
    )
}

async function generate(agent: ReturnType<typeof keepAlive>, url: string, auth: object, i: number) {
  const body = Buffer.from(
    JSON.stringify({
      model: 'gpt-image-1',
      prompt: `trace ${Date.now()} #${i}`,
      size: '1024x1024',
    }),
  )
  const reply = await send(agent, url, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'content-length': body.byteLength },
    body: [body],
  })
  if (reply.status !== 200) {
    throw new Error(`generation answered ${reply.status}`)
  }
  return reply.ms
}

async function upload(agent: ReturnType<typeof keepAlive>, server: Imagegate, bytes: Buffer) {
  const reply = await sendUpload(agent, server.url, server.auth, bytes)
  if (reply.status !== 201) {
    throw new Error(`upload answered ${reply.status}`)
  }
  return reply.ms
}

/** Times `count` runs of `work`, one at a time, after three unmeasured ones. */
async function timed(count: number, work: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 3; i++) {
    await work(-1 - i)
  }
  const ms: number[] = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    await work(i)
    ms.push(performance.now() - started)
  }
  return summarize(ms)
}

/** The same SDK, configured as imagegate configures it, straight at the same s3rver. */
async function floors(s3: S3Target, generated: Buffer[], uploads: Buffer[]) {
  const bare = createBarePutter(s3)
  const key = (bytes: Buffer) => `floor/sha256/${createHash('sha256').update(bytes).digest('hex')}`
  const big = (i: number) => generated[(i + 100 + generated.length) % generated.length] as Buffer
  const small = (i: number) => uploads[(i + 3 + uploads.length) % uploads.length] as Buffer
  const bigPut = await timed(n, (i) => bare.put(key(big(i)), big(i)))
  const smallPut = await timed(n, (i) => bare.put(key(small(i)), small(i)))
  const existing = key(small(0))
  const head = await timed(n, () => bare.head(existing))
  const missingHead = await timed(n, (i) => bare.head(`floor/missing-${i}`))
  const copy = await timed(n, () => bare.refresh(existing))
  bare.close()
  return {
    putGeneratedSize: { ...bigPut, bytes: median(generated.map((b) => b.byteLength)) },
    put64KiB: { ...smallPut, bytes: median(uploads.map((b) => b.byteLength)) },
    headExisting: head,
    headMissing: missingHead,
    copyOntoItself: copy,
  }
}

async function main() {
  const poolDir = await photoPool(log)
  const upstream = await startService(CLIENT_CORE, 'bench/workers/fake-upstream.ts', {
    photoPoolDir: poolDir,
  })
  const generatedPool = (await readdir(poolDir))
    .filter((name) => name.endsWith('.png'))
    .map((name) => readFileSync(path.join(poolDir, name)))
  const imageFor = distinctPngs(generatedPool)
  const generated = Array.from({ length: n + 200 }, (_, i) => Buffer.from(imageFor(i), 'base64'))
  const uploadPool = await photoUploadPool()
  const uploads = Array.from({ length: 4 * n + 10 }, (_, i) =>
    distinctUpload(uploadPool, 'trace', i),
  )
  const tracePort = await freePort()
  try {
    const result = await withSharedBackends(async (shared) => {
      const providerEnv = {
        IMAGEGATE_OPENAI_API_KEY: 'sk-bench',
        IMAGEGATE_OPENAI_BASE_URL: `${upstream.line}/v1`,
      }
      const scaled = await startImagegate(
        {
          IMAGEGATE_DATA_DIR: path.join(repoRoot, 'bench/.tmp', `trace-${Date.now()}`),
          ...providerEnv,
          ...shared.env,
          IO_TRACE_PORT: String(tracePort),
        },
        {
          nodeArgs: [
            '--import',
            path.join(repoRoot, 'bench/lib/io-trace.mjs'),
            ...(cpuProfile ? ['--cpu-prof', '--cpu-prof-dir=bench/.tmp/prof'] : []),
          ],
        },
      )
      try {
        const agent = keepAlive(1)
        const url = `${scaled.url}/v1/images/generations`
        const report: Record<string, unknown> = {}
        if (phases.has('generation')) {
          log(`generations, c=1, n=${n}`)
          for (let i = 0; i < 5; i++) {
            await generate(agent, url, scaled.auth, -1 - i)
          }
          await new Promise((resolve) => setTimeout(resolve, 50))
          await dump(tracePort)
          const generations: Traced[] = []
          const cpuBefore = cpuMsOf(scaled.pid)
          for (let i = 0; i < n; i++) {
            const clientMs = await generate(agent, url, scaled.auth, i)
            // What the request left running after its answer is counted with it.
            await new Promise((resolve) => setTimeout(resolve, 30))
            generations.push({ clientMs, events: await dump(tracePort) })
          }
          const generationCpuMs = (cpuMsOf(scaled.pid) - cpuBefore) / n
          const middle = [...generations].sort((a, b) => a.clientMs - b.clientMs)[
            Math.floor(generations.length / 2)
          ] as Traced
          report.generation = { ...profile(generations), cpuMsPerRequest: round(generationCpuMs) }
          report.generationTimeline = timeline(middle)
        }
        if (phases.has('upload')) {
          log(`uploads of 64 KiB, c=1, n=${n}`)
          for (let i = 0; i < 5; i++) {
            await upload(agent, scaled, uploads[uploads.length - 1 - i] as Buffer)
          }
          await new Promise((resolve) => setTimeout(resolve, 50))
          await dump(tracePort)
          const uploaded: Traced[] = []
          for (let i = 0; i < n; i++) {
            const clientMs = await upload(agent, scaled, uploads[i] as Buffer)
            await new Promise((resolve) => setTimeout(resolve, 30))
            uploaded.push({ clientMs, events: await dump(tracePort) })
          }
          const middleUpload = [...uploaded].sort((a, b) => a.clientMs - b.clientMs)[
            Math.floor(uploaded.length / 2)
          ] as Traced
          report.upload = profile(uploaded)
          report.uploadTimeline = timeline(middleUpload)
        }
        agent.destroy()
        if (phases.has('load')) {
          log(`uploads of 64 KiB, c=16, ${loadMs} ms`)
          const wide = keepAlive(16)
          const loadBytes = Array.from({ length: 20_000 }, (_, i) =>
            distinctUpload(uploadPool, `trace-load-${Date.now()}`, i),
          )
          let next = 0
          const started = performance.now()
          const loadCpuBefore = cpuMsOf(scaled.pid)
          await Promise.all(
            Array.from({ length: 16 }, async () => {
              while (performance.now() - started < loadMs && next < loadBytes.length) {
                await upload(wide, scaled, loadBytes[next++] as Buffer)
              }
            }),
          )
          const elapsed = performance.now() - started
          const loadCpuMs = (cpuMsOf(scaled.pid) - loadCpuBefore) / next
          wide.destroy()
          await new Promise((resolve) => setTimeout(resolve, 100))
          const loadEvents = await dump(tracePort)
          const perUpload = (kind: string) =>
            round(loadEvents.filter((event) => event.kind === kind).length / next, 2)
          report.uploadsUnderLoad = {
            concurrency: 16,
            uploads: next,
            perSecond: round((next / elapsed) * 1000, 1),
            cpuMsPerUpload: round(loadCpuMs, 2),
            calls: callsUnderLoad(loadEvents, next),
            perUpload: {
              pg: perUpload('pg'),
              pgCheckout: perUpload('pg-checkout'),
              s3: perUpload('s3'),
              redis: perUpload('redis'),
            },
          }
        }
        if (phases.has('floors')) {
          log('floors: the same SDK straight at s3rver')
          report.floors = await floors(shared.s3, generated, uploads)
        }
        return report
      } finally {
        await scaled.stop()
      }
    })
    const outDir = path.join(repoRoot, 'bench/.tmp')
    await mkdir(outDir, { recursive: true })
    const file = path.join(outDir, `scale-trace-${Date.now()}.json`)
    await writeFile(file, JSON.stringify(result, null, 1))
    console.log(JSON.stringify(result, null, 1))
    log(`written to ${file}`)
  } finally {
    await upstream.stop()
  }
}

await main()
