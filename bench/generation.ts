/**
 * Generation benchmarks: imagegate's POST /v1/images/generations (gpt-image-1 on the fake
 * OpenAI upstream) against calling that upstream directly, in the same run: added latency at
 * concurrency 1, throughput at concurrency 32, and imagegate's CPU per generation. At
 * concurrency 1 a minimal gateway (bench/workers/minimal-gateway.ts) is measured in the same
 * rounds: the floor that the work itself sets on this machine.
 *
 * Measured twice, with two upstream images: the original fake's one ~1.5 MB noise PNG (filter
 * None, deflate level 1: it inflates at memcpy speed, and as the same bytes every time it is
 * stored once), and what providers really send: a different 1024×1024 photo-like PNG on every
 * call, written by a real encoder with adaptive row filters and default compression.
 */
import path from 'node:path'
import type { SuiteContext } from './lib/context.ts'
import type { PhaseRuns } from './lib/phases.ts'
import { PHOTO_POOL_SIZE, photoPool } from './lib/photo-pool.ts'
import {
  CLIENT_CORE,
  cpuMsOf,
  runWorker,
  SERVER_CORE,
  startImagegate,
  startService,
} from './lib/procs.ts'
import type { Row } from './lib/report.ts'
import { median, round, type Summary } from './lib/stats.ts'

/** One upstream image and the targets imagegate is held to with it. */
type UpstreamImage = {
  group: string
  /** Input of bench/workers/fake-upstream.ts. */
  upstream: (context: SuiteContext) => Promise<Record<string, unknown>>
  dataDir: string
  description: string
  targets: {
    overheadP50Ms: number
    overheadP99Ms?: number
    throughputRatio: number
    cpuPerGenerationMs?: number
  }
}

const IMAGES: UpstreamImage[] = [
  {
    group: 'generation',
    upstream: async () => ({}),
    dataDir: 'generation',
    description: 'the same 720×720 noise PNG (1.5 MB, filter None, deflate level 1) every call',
    targets: { overheadP50Ms: 8, overheadP99Ms: 25, throughputRatio: 0.8 },
  },
  {
    group: 'generation, real PNG',
    upstream: async (context) => ({ photoPoolDir: await photoPool(context.log) }),
    dataDir: 'generation-real-png',
    description:
      'a different 1024×1024 photo-like PNG every call (~1.5 MB, sharp with adaptive filters and ' +
      `default compression; ${PHOTO_POOL_SIZE} distinct encodes, each call's bytes made distinct by a tEXt chunk before IEND)`,
    targets: { overheadP50Ms: 10, throughputRatio: 0.45, cpuPerGenerationMs: 12 },
  },
]

type Latency = {
  totalOps: number
  rounds: { direct: Summary; gateway: Summary; minimal: Summary }[]
  direct: Summary
  gateway: Summary
  minimal: Summary
  overheadHeader: Summary
  pairDifference: Summary
  minimalPairDifference: Summary
}

type Throughput = PhaseRuns

export async function generationBenchmarks(context: SuiteContext): Promise<Row[]> {
  const rows: Row[] = []
  for (const image of IMAGES) {
    context.log(`generation with ${image.description}`)
    rows.push(...(await measure(context, image)))
  }
  return rows
}

async function measure(context: SuiteContext, image: UpstreamImage): Promise<Row[]> {
  const GROUP = image.group
  const { targets } = image
  const rows: Row[] = []
  const runId = `${Date.now().toString(36)}-${image.dataDir}`
  const upstreamInput = await image.upstream(context)
  const upstream = await startService(CLIENT_CORE, 'bench/workers/fake-upstream.ts', upstreamInput)
  try {
    const server = await startImagegate({
      IMAGEGATE_DATA_DIR: path.join(context.workDir, image.dataDir),
      IMAGEGATE_OPENAI_API_KEY: 'sk-bench',
      IMAGEGATE_OPENAI_BASE_URL: `${upstream.line}/v1`,
    })
    try {
      const direct = {
        url: `${upstream.line}/v1/images/generations`,
        headers: { authorization: 'Bearer sk-bench' },
      }
      const gateway = { url: `${server.url}/v1/images/generations`, headers: server.auth }

      // The floor: the same required steps in a bare node:http server, on imagegate's core.
      const minimalServer = await startService(SERVER_CORE, 'bench/workers/minimal-gateway.ts', {
        upstream: upstream.line,
        dir: path.join(context.workDir, `minimal-${image.dataDir}`),
      })
      context.log(
        'generation latency, c=1: direct, through imagegate and through the minimal gateway, interleaved',
      )
      const latencyCpuBefore = cpuMsOf(server.pid)
      const minimalCpuBefore = cpuMsOf(minimalServer.pid)
      let latency: Latency
      let cpuPerMinimalGeneration: number
      try {
        latency = await runWorker<Latency>(CLIENT_CORE, 'bench/workers/gen-client.ts', {
          mode: 'latency',
          direct,
          gateway,
          minimal: { url: `${minimalServer.line}/v1/images/generations`, headers: {} },
          runId,
          warmup: 5,
          rounds: 3,
          pairs: context.quick ? 25 : 80,
          roundMaxMs: context.quick ? 8000 : 30_000,
        })
        cpuPerMinimalGeneration = (cpuMsOf(minimalServer.pid) - minimalCpuBefore) / latency.totalOps
      } finally {
        await minimalServer.stop()
      }
      const cpuPerGenerationC1 = (cpuMsOf(server.pid) - latencyCpuBefore) / latency.totalOps
      // Per round: gateway percentile minus direct percentile; the median over rounds.
      const added = (pick: (summary: Summary) => number) =>
        median(latency.rounds.map((round) => pick(round.gateway) - pick(round.direct)))
      // p50: the median over rounds of (gateway p50 - direct p50), as llm-gateway-bench does.
      const p50 = added((summary) => summary.p50)
      // p99: of the per-pair differences (each gateway call minus the direct call next to it);
      // a difference of two p99s is meaningless when either side has its own outliers.
      const p99 = latency.pairDifference.p99
      const directP50 = median(latency.rounds.map((round) => round.direct.p50))
      const directP99 = median(latency.rounds.map((round) => round.direct.p99))
      const roundsNote = latency.rounds
        .map(
          (round) =>
            `gw ${round.gateway.p50}/${round.gateway.p99} vs direct ${round.direct.p50}/${round.direct.p99}`,
        )
        .join('; ')
      rows.push({
        group: GROUP,
        metric: 'overhead p50, c=1',
        value: p50,
        unit: 'ms',
        baseline: { value: directP50, label: 'direct call p50' },
        ratio: (directP50 + p50) / directP50,
        target: `≤ ${targets.overheadP50Ms} ms`,
        pass: p50 <= targets.overheadP50Ms,
        note: `upstream image: ${image.description}; p50/p99 per round (ms, n=${latency.rounds[0]?.gateway.n} each): ${roundsNote}`,
      })
      rows.push({
        group: GROUP,
        metric: 'overhead p99 (pairwise), c=1',
        value: p99,
        unit: 'ms',
        baseline: { value: directP99, label: 'direct call p99' },
        target:
          targets.overheadP99Ms === undefined ? '(informational)' : `≤ ${targets.overheadP99Ms} ms`,
        pass: targets.overheadP99Ms === undefined ? undefined : p99 <= targets.overheadP99Ms,
        note:
          `p99 of ${latency.pairDifference.n} back-to-back (gateway - direct) differences; ` +
          `their p50 ${latency.pairDifference.p50} ms; difference of the p99s, median over rounds: ` +
          `${round(
            added((summary) => summary.p99),
            1,
          )} ms`,
      })
      const minimalP50 = median(latency.rounds.map((round) => round.minimal.p50 - round.direct.p50))
      rows.push({
        group: GROUP,
        metric: 'minimal gateway overhead p50, c=1',
        value: minimalP50,
        unit: 'ms',
        baseline: { value: directP50, label: 'direct call p50' },
        ratio: (directP50 + minimalP50) / directP50,
        target: `(the floor for ≤ ${targets.overheadP50Ms} ms)`,
        pass: undefined,
        note:
          'bench/workers/minimal-gateway.ts: the steps no gateway that charges, verifies and ' +
          'stores can skip (hold and settlement as FULL commits, the integrity check, sha256, the ' +
          'blob, the rows, the answer) in a bare node:http server on the same core, called in ' +
          `the same rounds; p50 per round ${latency.rounds.map((round) => round.minimal.p50).join(' / ')} ms; ` +
          `CPU per generation ${round(cpuPerMinimalGeneration, 1)} ms (imagegate ${round(cpuPerGenerationC1, 1)} ms)`,
      })
      rows.push({
        group: GROUP,
        metric: 'minimal gateway overhead p99 (pairwise), c=1',
        value: latency.minimalPairDifference.p99,
        unit: 'ms',
        baseline: { value: directP99, label: 'direct call p99' },
        target: `(the floor for ≤ ${targets.overheadP99Ms ?? '-'} ms)`,
        pass: undefined,
        note:
          `p99 of ${latency.minimalPairDifference.n} (minimal gateway - direct) differences, each ` +
          `within one rotated triple, as imagegate's; their p50 ${latency.minimalPairDifference.p50} ms`,
      })
      rows.push({
        group: GROUP,
        metric: 'x-imagegate-overhead-ms p50 / p99',
        value: latency.overheadHeader.p50,
        unit: 'ms',
        target: `(p99 ${latency.overheadHeader.p99} ms, max ${latency.overheadHeader.max} ms)`,
        pass: undefined,
        note:
          'server-side figure, from the route handler`s start to the built answer minus the time ' +
          'waiting for the upstream (its answer`s parsing and decoding count as imagegate`s); ' +
          'excludes the middleware before the handler and the socket write; ' +
          `imagegate CPU per generation at c=1: ${round(cpuPerGenerationC1, 1)} ms (all threads)`,
      })

      const phases = {
        concurrency: 32,
        durationMs: context.quick ? 2000 : 5000,
        maxCount: 5000,
        repeats: 1,
      }
      const directLoad: Throughput = { runs: [], totalOps: 0 }
      const gatewayLoad: Throughput = { runs: [], totalOps: 0 }
      const cpuPerGenerationC32: number[] = []
      // Alternating direct and gateway runs, so outside load hits both alike.
      for (let repeat = 0; repeat < 3; repeat++) {
        const warmupMs = repeat === 0 ? (context.quick ? 1000 : 2000) : 500
        context.log(`generation throughput, c=32 #${repeat + 1}: direct, through imagegate`)
        for (const [target, into] of [
          [direct, directLoad],
          [gateway, gatewayLoad],
        ] as const) {
          const cpuBefore = cpuMsOf(server.pid)
          const load = await runWorker<Throughput>(CLIENT_CORE, 'bench/workers/gen-client.ts', {
            ...phases,
            warmupMs,
            mode: 'throughput',
            target,
            runId: `${runId}-${repeat}`,
          })
          into.runs.push(...load.runs)
          if (into === gatewayLoad) {
            cpuPerGenerationC32.push((cpuMsOf(server.pid) - cpuBefore) / load.totalOps)
          }
        }
      }
      const rate = (load: Throughput) => median(load.runs.map((run) => run.opsPerSecond))
      const errors = gatewayLoad.runs.reduce((sum, run) => sum + run.failures, 0)
      const gatewayRate = rate(gatewayLoad)
      const directRate = rate(directLoad)
      const firstFailure = gatewayLoad.runs.find((run) => run.firstFailure)?.firstFailure
      rows.push({
        group: GROUP,
        metric: 'throughput, c=32',
        value: gatewayRate,
        unit: 'req/s',
        baseline: { value: directRate, label: 'direct to upstream' },
        ratio: gatewayRate / directRate,
        target: `≥ ${targets.throughputRatio}x direct, 0 errors`,
        pass: gatewayRate / directRate >= targets.throughputRatio && errors === 0,
        note:
          `runs ${gatewayLoad.runs.map((run) => round(run.opsPerSecond, 1)).join(' / ')} req/s ` +
          `(direct ${directLoad.runs.map((run) => round(run.opsPerSecond, 1)).join(' / ')}); ` +
          `latency p50 ${gatewayLoad.runs[1]?.latencyMs.p50} ms p99 ${gatewayLoad.runs[1]?.latencyMs.p99} ms; ` +
          `errors ${errors}${firstFailure ? ` (${firstFailure})` : ''}; ` +
          `imagegate CPU per generation ${round(median(cpuPerGenerationC32), 1)} ms (all threads); ` +
          'client and fake upstream share core 1, imagegate has core 0',
      })
      const cpuC32 = median(cpuPerGenerationC32)
      for (const [metric, value, note] of [
        [
          'server CPU per generation, c=1',
          cpuPerGenerationC1,
          `imagegate, all threads, over the latency rounds and their warm-up; the minimal gateway ${round(cpuPerMinimalGeneration, 1)} ms`,
        ],
        [
          'server CPU per generation, c=32',
          cpuC32,
          `imagegate, all threads, median of the throughput runs (${cpuPerGenerationC32.map((ms) => round(ms, 1)).join(' / ')} ms)`,
        ],
      ] as const) {
        rows.push({
          group: GROUP,
          metric,
          value,
          unit: 'ms',
          target:
            targets.cpuPerGenerationMs === undefined
              ? '(informational)'
              : `≤ ${targets.cpuPerGenerationMs} ms`,
          pass:
            targets.cpuPerGenerationMs === undefined
              ? undefined
              : value <= targets.cpuPerGenerationMs,
          note,
        })
      }
      context.details[GROUP] = {
        image: image.description,
        latency,
        directLoad,
        gatewayLoad,
        phases,
      }
    } finally {
      await server.stop()
    }
  } finally {
    await upstream.stop()
  }
  return rows
}
