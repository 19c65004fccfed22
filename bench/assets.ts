/**
 * Asset store benchmarks: small and large uploads against the raw durable-write loop
 * on the same disk, GET content and 304 revalidations against a bare node:http server, and the
 * server's RSS while a 1 GiB upload streams through.
 */
import { createHash } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { cannon } from './lib/autocannon.ts'
import type { SuiteContext } from './lib/context.ts'
import { keepAlive, multipartFrame, send } from './lib/http.ts'
import { type LoadSummary, loadOnce, type ServerLoadRun, summarizeLoad } from './lib/loadgen.ts'
import type { PhaseResult, PhaseRuns } from './lib/phases.ts'
import { planPng, pngBytes } from './lib/png.ts'
import {
  CLIENT_CORE,
  cpuMsOf,
  type Imagegate,
  readRssBytes,
  runWorker,
  SERVER_CORE,
  startImagegate,
  startService,
} from './lib/procs.ts'
import type { Row } from './lib/report.ts'
import { KiB, MiB, mbPerSecond, median, round } from './lib/stats.ts'

const GROUP = 'assets'
const REPEATS = 3

type UploadRuns = PhaseRuns & { statuses?: Record<string, number> }

const perSecond = (runs: PhaseResult[]) => median(runs.map((run) => run.opsPerSecond))
const mbps = (runs: PhaseResult[]) =>
  median(runs.map((run) => mbPerSecond(run.bytes, run.elapsedMs)))
const failures = (runs: PhaseResult[]) => runs.reduce((sum, run) => sum + run.failures, 0)
const list = (values: number[], digits = 0) =>
  values.map((value) => round(value, digits)).join(' / ')

type Service = { line: string; pid: number }

async function uploads(
  context: SuiteContext,
  server: Imagegate,
  /** The floor: bench/workers/minimal-upload-server.ts, on imagegate's core. */
  minimal: Service,
  options: { sizeBytes: number; concurrency: number; maxCount: number; label: string },
) {
  const phases = {
    concurrency: options.concurrency,
    durationMs: context.quick ? 1500 : 4000,
    maxCount: options.maxCount,
    repeats: 1,
  }
  const rawDir = path.join(context.workDir, `raw-${options.sizeBytes}`)
  const http: UploadRuns = { runs: [], totalOps: 0, statuses: {} }
  const raw: UploadRuns = { runs: [], totalOps: 0 }
  const floor: UploadRuns = { runs: [], totalOps: 0 }
  const serverCpuMsPerOp: number[] = []
  const floorCpuMsPerOp: number[] = []
  /** One measured run of the upload client against a server; its CPU per upload kept. */
  const measure = async (
    target: { url: string; pid: number; headers?: Record<string, string> },
    into: UploadRuns,
    cpuMsPerOp: number[],
    seed: string,
    repeat: number,
  ) => {
    const cpuBefore = cpuMsOf(target.pid)
    const measured = await runWorker<UploadRuns>(CLIENT_CORE, 'bench/workers/upload-client.ts', {
      ...phases,
      warmupMs: repeat === 0 ? 1500 : 300,
      url: target.url,
      ...(target.headers ? { headers: target.headers } : {}),
      sizeBytes: options.sizeBytes,
      seed: `${options.label}-${seed}-${repeat}`,
    })
    into.runs.push(...measured.runs)
    cpuMsPerOp.push((cpuMsOf(target.pid) - cpuBefore) / Math.max(1, measured.totalOps))
    for (const [status, count] of Object.entries(measured.statuses ?? {})) {
      into.statuses ??= {}
      into.statuses[status] = (into.statuses[status] ?? 0) + count
    }
  }
  // Alternating imagegate, floor and baseline runs, so load from outside the benchmark hits all
  // alike.
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    context.log(`${options.label} #${repeat + 1}: imagegate, c=${options.concurrency}`)
    await measure(
      { url: server.url, pid: server.pid, headers: server.auth },
      http,
      serverCpuMsPerOp,
      'http',
      repeat,
    )
    context.log(`${options.label} #${repeat + 1}: minimal node:http upload server`)
    await measure(
      { url: minimal.line, pid: minimal.pid },
      floor,
      floorCpuMsPerOp,
      'minimal',
      repeat,
    )
    context.log(`${options.label} #${repeat + 1}: raw hash+write+fsync+rename+dir-fsync loop`)
    const viaDisk = await runWorker<UploadRuns>(SERVER_CORE, 'bench/workers/raw-disk.ts', {
      ...phases,
      warmupMs: 300,
      dir: rawDir,
      sizeBytes: options.sizeBytes,
      seed: `${options.label}-raw-${repeat}`,
    })
    raw.runs.push(...viaDisk.runs)
  }
  await rm(rawDir, { recursive: true, force: true })
  // The baseline's own CPU per upload, measured phases only.
  const rawCpuMsPerOp =
    raw.runs.reduce((sum, run) => sum + run.cpuMs, 0) /
    Math.max(
      1,
      raw.runs.reduce((sum, run) => sum + run.count, 0),
    )
  const cpu = {
    server: median(serverCpuMsPerOp),
    floor: median(floorCpuMsPerOp),
    raw: rawCpuMsPerOp,
  }
  context.details[options.label] = {
    phases,
    imagegate: http,
    minimal: floor,
    raw,
    cpuMsPerUpload: cpu,
  }
  return { http, floor, raw, cpu }
}

async function uploadOne(url: string, auth: Record<string, string>, bytes: Buffer) {
  const frame = multipartFrame(bytes.byteLength)
  const agent = keepAlive(1)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const reply = await send(agent, `${url}/v1/assets`, {
    method: 'POST',
    headers: {
      ...auth,
      'content-type': frame.contentType,
      'content-length': frame.contentLength,
      'x-content-sha256': sha256,
    },
    body: [frame.preamble, bytes, frame.epilogue],
    keepBody: true,
  })
  agent.destroy()
  if (reply.status !== 201 && reply.status !== 200) {
    throw new Error(`upload failed: HTTP ${reply.status} ${reply.body.toString()}`)
  }
  return { id: (JSON.parse(reply.body.toString()) as { id: string }).id, sha256 }
}

/** Samples a process's RSS every 20 ms while `work` runs; growth is peak minus the start. */
async function rssDuring<T>(pid: number, work: () => Promise<T>) {
  const before = readRssBytes(pid)
  let peak = before
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, readRssBytes(pid))
    } catch {
      // the process is gone; the work's error will say why
    }
  }, 20)
  try {
    const result = await work()
    peak = Math.max(peak, readRssBytes(pid))
    return { result, before, peak, growth: peak - before }
  } finally {
    clearInterval(timer)
  }
}

type BigUpload = { status: number; ms: number; hashMs: number; sha256: string; answer: string }

/** The minimal upload server's figure for an upload row, against the same raw loop. */
function floorRow(
  metric: string,
  measured: Awaited<ReturnType<typeof uploads>>,
  rate: (runs: PhaseResult[]) => number,
  unit: string,
  target: string,
): Row {
  const value = rate(measured.floor.runs)
  const base = rate(measured.raw.runs)
  return {
    group: GROUP,
    metric: `${metric}: minimal server`,
    value,
    unit,
    baseline: { value: base, label: 'raw loop, as above' },
    ratio: value / base,
    target,
    pass: undefined,
    note:
      'bench/workers/minimal-upload-server.ts: the steps no verified, durable upload can skip ' +
      '(the part streamed to a temp file while hashed, digest and PNG signature checked, fsync, ' +
      'rename, directory fsync, the row) in a bare node:http server on the same core, in the ' +
      `same rounds; runs ${list(measured.floor.runs.map((run) => rate([run])))} ${unit}; ` +
      `CPU per upload ${round(measured.cpu.floor, 2)} ms (imagegate ${round(measured.cpu.server, 2)} ms); ` +
      `failures ${failures(measured.floor.runs)}`,
  }
}

/** Small and large uploads: imagegate, the minimal server and the raw loop, in the same runs. */
async function uploadRows(context: SuiteContext, server: Imagegate, minimal: Service) {
  const rows: Row[] = []
  const small = await uploads(context, server, minimal, {
    sizeBytes: 64 * KiB,
    concurrency: 16,
    maxCount: context.quick ? 3000 : 8000,
    label: 'upload-64KiB',
  })
  const smallRate = perSecond(small.http.runs)
  const smallBase = perSecond(small.raw.runs)
  rows.push({
    group: GROUP,
    metric: 'upload 64 KiB, c=16',
    value: smallRate,
    unit: 'uploads/s',
    baseline: { value: smallBase, label: 'raw durable-write loop' },
    ratio: smallRate / smallBase,
    target: '≥ 1,000/s, 0 errors',
    pass: smallRate >= 1000 && failures(small.http.runs) === 0,
    note:
      `runs ${list(small.http.runs.map((run) => run.opsPerSecond))}/s ` +
      `(baseline ${list(small.raw.runs.map((run) => run.opsPerSecond))}/s); ` +
      `latency p50 ${small.http.runs[1]?.latencyMs.p50} ms p99 ${small.http.runs[1]?.latencyMs.p99} ms; ` +
      `CPU per upload: server ${round(small.cpu.server, 2)} ms, raw loop ${round(small.cpu.raw, 2)} ms; ` +
      `statuses ${JSON.stringify(small.http.statuses)}; failures ${failures(small.http.runs)}` +
      (small.http.runs.find((run) => run.firstFailure)?.firstFailure ?? ''),
  })
  rows.push(
    floorRow('upload 64 KiB, c=16', small, perSecond, 'uploads/s', '(the floor for ≥ 1,000/s)'),
  )

  // Large uploads: one at a time, and four in parallel (parallel fsyncs can cost this disk).
  for (const concurrency of [1, 4]) {
    const large = await uploads(context, server, minimal, {
      sizeBytes: 10 * MiB,
      concurrency,
      maxCount: context.quick ? 60 : 200,
      label: `upload-10MiB-c${concurrency}`,
    })
    const largeRate = mbps(large.http.runs)
    const largeBase = mbps(large.raw.runs)
    rows.push({
      group: GROUP,
      metric: `upload 10 MiB, c=${concurrency}`,
      value: largeRate,
      unit: 'MB/s',
      baseline: { value: largeBase, label: 'raw hash+write+fsync+rename' },
      ratio: largeRate / largeBase,
      target: '≥ 200 MB/s and ≥ 0.6x baseline',
      pass: largeRate >= 200 && largeRate / largeBase >= 0.6 && failures(large.http.runs) === 0,
      note:
        `runs ${list(large.http.runs.map((run) => mbPerSecond(run.bytes, run.elapsedMs)))} MB/s ` +
        `(baseline ${list(large.raw.runs.map((run) => mbPerSecond(run.bytes, run.elapsedMs)))}); ` +
        `CPU per upload: server ${round(large.cpu.server, 1)} ms, raw loop ${round(large.cpu.raw, 1)} ms; ` +
        `statuses ${JSON.stringify(large.http.statuses)}; failures ${failures(large.http.runs)}` +
        (large.http.runs.find((run) => run.firstFailure)?.firstFailure ?? ''),
    })
    rows.push(
      floorRow(
        `upload 10 MiB, c=${concurrency}`,
        large,
        mbps,
        'MB/s',
        '(the floor for ≥ 200 MB/s)',
      ),
    )
  }
  return rows
}

export async function assetBenchmarks(context: SuiteContext): Promise<Row[]> {
  const rows: Row[] = []
  const server = await startImagegate({ IMAGEGATE_DATA_DIR: path.join(context.workDir, 'assets') })
  try {
    const minimal = await startService(SERVER_CORE, 'bench/workers/minimal-upload-server.ts', {
      dir: path.join(context.workDir, 'minimal-uploads'),
    })
    try {
      rows.push(...(await uploadRows(context, server, minimal)))
    } finally {
      await minimal.stop()
    }

    // GET content and 304 revalidation.
    const assetBytes = pngBytes(planPng(100 * KiB, 'get-asset'), 0)
    const { id, sha256 } = await uploadOne(server.url, server.auth, assetBytes)
    const assetFile = path.join(context.workDir, 'get-asset.png')
    await writeFile(assetFile, assetBytes)
    const sinkDir = path.join(context.workDir, 'sink')
    await mkdir(sinkDir, { recursive: true })
    const bare = await startService(SERVER_CORE, 'bench/workers/bare-http.ts', {
      assetFile,
      sinkDir,
    })
    try {
      const loadOptions = {
        connections: 50,
        warmupMs: context.quick ? 500 : 1000,
        durationMs: context.quick ? 2000 : 4000,
      }
      const etag = `"${sha256}"`
      const contentUrl = `${server.url}/v1/assets/${id}/content`
      const check = await fetch(contentUrl, { headers: server.auth })
      const served = Buffer.from(await check.arrayBuffer())
      if (check.headers.get('etag') !== etag || !served.equals(assetBytes)) {
        throw new Error(
          `GET content answered ${check.status} with etag ${check.headers.get('etag')}`,
        )
      }
      const headers = { 'if-none-match': etag }
      const authed = { ...loadOptions, headers: server.auth }
      const runs = { get: [], getBase: [], notModified: [], notModifiedBase: [] } as Record<
        'get' | 'getBase' | 'notModified' | 'notModifiedBase',
        ServerLoadRun[]
      >
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        context.log(`GET content 100 KiB #${repeat + 1}: imagegate, bare node:http`)
        runs.get.push(await loadOnce(contentUrl, authed, server.pid))
        runs.getBase.push(await loadOnce(`${bare.line}/asset`, loadOptions, bare.pid))
      }
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        context.log(`If-None-Match → 304 #${repeat + 1}: imagegate, bare node:http`)
        runs.notModified.push(
          await loadOnce(
            contentUrl,
            { ...loadOptions, headers: { ...headers, ...server.auth } },
            server.pid,
          ),
        )
        runs.notModifiedBase.push(
          await loadOnce(`${bare.line}/asset`, { ...loadOptions, headers }, bare.pid),
        )
      }
      const get = summarizeLoad(runs.get, 200)
      const getBase = summarizeLoad(runs.getBase, 200)
      const notModified = summarizeLoad(runs.notModified, 304)
      const notModifiedBase = summarizeLoad(runs.notModifiedBase, 304)
      // Cross-check with autocannon where it is not itself the bottleneck (tiny 304 answers).
      context.log('If-None-Match → 304: autocannon cross-check (imagegate)')
      const crossCheck = await cannon(contentUrl, {
        connections: 50,
        seconds: context.quick ? 2 : 3,
        warmupSeconds: 1,
        repeats: 1,
        headers: { ...headers, ...server.auth },
        expectStatus: 304,
      })
      context.details.getContent = {
        loadOptions,
        get,
        getBase,
        notModified,
        notModifiedBase,
        autocannon304: crossCheck,
      }
      const loadNote = (result: LoadSummary, base: LoadSummary) =>
        `runs ${list(result.runs.map((run) => run.rps))} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
        `unexpected ${result.bad} (baseline runs ${list(base.runs.map((run) => run.rps))}, p99 ${base.p99Ms} ms); ` +
        `server CPU ${round(result.serverCpuMsPerOp, 3)} ms/request (baseline ${round(base.serverCpuMsPerOp, 3)}); ` +
        '50 keep-alive connections from bench/workers/loadgen.ts on core 1, server on core 0'
      rows.push({
        group: GROUP,
        metric: 'GET content 100 KiB',
        value: get.rps,
        unit: 'req/s',
        baseline: { value: getBase.rps, label: 'bare node:http, from memory' },
        ratio: get.rps / getBase.rps,
        target: '≥ 5,000 req/s',
        pass: get.rps >= 5000 && get.bad === 0,
        note: loadNote(get, getBase),
      })
      rows.push({
        group: GROUP,
        metric: 'GET content, If-None-Match → 304',
        value: notModified.rps,
        unit: 'req/s',
        baseline: { value: notModifiedBase.rps, label: 'bare node:http 304' },
        ratio: notModified.rps / notModifiedBase.rps,
        target: '≥ 10,000 req/s',
        pass: notModified.rps >= 10_000 && notModified.bad === 0,
        note: `${loadNote(notModified, notModifiedBase)}; autocannon -c 50 cross-check ${round(crossCheck.rps, 0)} req/s`,
      })

      // RSS while 1 GiB streams through.
      await server.stop()
      const sizeBytes = context.quick ? 256 * MiB : 1024 * MiB
      const label = context.quick ? '256 MiB' : '1 GiB'
      const big = await startImagegate({
        IMAGEGATE_DATA_DIR: path.join(context.workDir, 'assets-big'),
        IMAGEGATE_MAX_UPLOAD_BYTES: String(sizeBytes + MiB),
      })
      try {
        // Warm the upload path first so module loading and JIT are not counted as growth.
        await uploadOne(big.url, big.auth, pngBytes(planPng(64 * KiB, 'rss-warmup'), 0))
        context.log(`RSS during a ${label} upload: imagegate`)
        const viaGateway = await rssDuring(big.pid, () =>
          runWorker<BigUpload>(CLIENT_CORE, 'bench/workers/big-upload.ts', {
            url: `${big.url}/v1/assets`,
            headers: big.auth,
            sizeBytes,
            seed: 'rss-1',
            multipart: true,
          }),
        )
        context.log(`RSS during a ${label} upload: bare node:http piping to a file`)
        const viaBare = await rssDuring(bare.pid, () =>
          runWorker<BigUpload>(CLIENT_CORE, 'bench/workers/big-upload.ts', {
            url: `${bare.line}/sink`,
            sizeBytes,
            seed: 'rss-1',
            multipart: false,
          }),
        )
        context.details.rss = { sizeBytes, viaGateway, viaBare }
        const stored = viaGateway.result.status === 201
        const growthMiB = viaGateway.growth / MiB
        rows.push({
          group: GROUP,
          metric: `server RSS growth during a ${label} upload`,
          value: growthMiB,
          unit: 'MiB',
          baseline: { value: viaBare.growth / MiB, label: 'bare node:http → file' },
          target: '< 64 MiB, upload stored (201)',
          pass: growthMiB < 64 && stored,
          note:
            `RSS ${round(viaGateway.before / MiB, 1)} → peak ${round(viaGateway.peak / MiB, 1)} MiB; ` +
            `upload ${round(mbPerSecond(sizeBytes, viaGateway.result.ms), 0)} MB/s ` +
            `(bare ${round(mbPerSecond(sizeBytes, viaBare.result.ms), 0)} MB/s), HTTP ${viaGateway.result.status}` +
            (stored ? '' : `: ${viaGateway.result.answer}`),
        })
      } finally {
        await big.stop()
      }
    } finally {
      await bare.stop()
    }
  } finally {
    await server.stop()
  }
  return rows
}
