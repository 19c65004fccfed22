import { CLIENT_CORE, cpuMsOf, runWorker } from './procs.ts'
import { median, type Summary } from './stats.ts'

export type LoadRun = {
  rps: number
  count: number
  elapsedMs: number
  latencyMs: Summary
  statusCounts: Record<string, number>
  errors: number
  bytes: number
}

export type LoadOptions = {
  connections: number
  warmupMs: number
  durationMs: number
  headers?: Record<string, string>
}

/**
 * One warm-up and one measured run of bench/workers/loadgen.ts, pinned to CLIENT_CORE, with the
 * CPU time the server process `serverPid` spent per request (warm-up included).
 */
export async function loadOnce(
  url: string,
  options: LoadOptions,
  serverPid: number,
): Promise<ServerLoadRun> {
  const cpuBefore = cpuMsOf(serverPid)
  const { runs, totalOps } = await runWorker<{ runs: LoadRun[]; totalOps: number }>(
    CLIENT_CORE,
    'bench/workers/loadgen.ts',
    { ...options, url, repeats: 1 },
  )
  const serverCpuMsPerOp = (cpuMsOf(serverPid) - cpuBefore) / Math.max(1, totalOps)
  return { ...(runs[0] as LoadRun), serverCpuMsPerOp }
}

/** A load run plus the CPU time the server spent per request (warm-up included). */
export type ServerLoadRun = LoadRun & { serverCpuMsPerOp: number }

export type LoadSummary = {
  rps: number
  p50Ms: number
  p99Ms: number
  /** Median over runs of the server's CPU time per request. */
  serverCpuMsPerOp: number
  runs: ServerLoadRun[]
  bad: number
}

/** Medians over runs; `bad` counts other statuses than expected plus connection errors. */
export function summarizeLoad(runs: ServerLoadRun[], expectStatus: number): LoadSummary {
  return {
    serverCpuMsPerOp: median(runs.map((run) => run.serverCpuMsPerOp)),
    rps: median(runs.map((run) => run.rps)),
    p50Ms: median(runs.map((run) => run.latencyMs.p50)),
    p99Ms: median(runs.map((run) => run.latencyMs.p99)),
    runs,
    bad: runs.reduce(
      (sum, run) =>
        sum +
        run.errors +
        Object.entries(run.statusCounts)
          .filter(([status]) => status !== String(expectStatus))
          .reduce((count, [, value]) => count + value, 0),
      0,
    ),
  }
}
