import { spawn } from 'node:child_process'
import path from 'node:path'
import { CLIENT_CORE, repoRoot } from './procs.ts'
import { median } from './stats.ts'

export type CannonRun = {
  rps: number
  p50Ms: number
  p99Ms: number
  total: number
  errors: number
  timeouts: number
  statusCounts: Record<string, number>
}

type CannonJson = {
  requests: { average: number; total: number }
  latency: { p50: number; p99: number }
  errors: number
  timeouts: number
  statusCodeStats: Record<string, { count: number }>
}

/** The autocannon CLI as its own process, pinned to CLIENT_CORE, one run. */
async function cannonOnce(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string> },
): Promise<CannonRun> {
  const args = [
    '-c',
    String(CLIENT_CORE),
    path.join(repoRoot, 'node_modules/.bin/autocannon'),
    '--json',
    '-c',
    String(options.connections),
    '-d',
    String(options.seconds),
    ...Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}=${value}`]),
    url,
  ]
  const child = spawn('taskset', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) {
    throw new Error(`autocannon exited with ${code}: ${stderr}`)
  }
  const result = JSON.parse(stdout) as CannonJson
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCounts: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([status, stats]) => [status, stats.count]),
    ),
  }
}

export type CannonResult = {
  /** Median over the measured runs. */
  rps: number
  p50Ms: number
  p99Ms: number
  runs: CannonRun[]
  /** Responses with another status than expected, plus socket errors and timeouts, summed. */
  bad: number
}

/** One warm-up run, then `repeats` measured runs; the median of each figure. */
export async function cannon(
  url: string,
  options: {
    connections: number
    seconds: number
    warmupSeconds: number
    repeats: number
    expectStatus: number
    headers?: Record<string, string>
  },
): Promise<CannonResult> {
  await cannonOnce(url, { ...options, seconds: options.warmupSeconds })
  const runs: CannonRun[] = []
  for (let index = 0; index < options.repeats; index++) {
    runs.push(await cannonOnce(url, options))
  }
  const expected = String(options.expectStatus)
  return {
    rps: median(runs.map((run) => run.rps)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    runs,
    bad: runs.reduce(
      (sum, run) =>
        sum +
        run.errors +
        run.timeouts +
        Object.entries(run.statusCounts)
          .filter(([status]) => status !== expected)
          .reduce((count, [, value]) => count + value, 0),
      0,
    ),
  }
}
