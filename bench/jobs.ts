/**
 * Asynchronous generations (`Prefer: respond-async`) against a slow fake OpenAI upstream:
 * how fast the 202 answers, and whether a queue of jobs drains at the configured concurrency
 * with the server's memory flat. The job table is read from the server's SQLite file (WAL:
 * readers do not block it) to follow the drain.
 */
import path from 'node:path'
import type { SuiteContext } from './lib/context.ts'
import { CLIENT_CORE, readRssBytes, runWorker, startImagegate, startService } from './lib/procs.ts'
import type { Row } from './lib/report.ts'
import { openSqlite } from './lib/sqlite.ts'
import { MiB, round, type Summary } from './lib/stats.ts'

const GROUP = 'jobs'
const CONCURRENCY = 16
const UPSTREAM_MS = 500
const LEASE_MS = 2000
const TARGETS = { acceptP50Ms: 5, concurrencyRatio: 0.8, rssGrowthMiB: 64 }

type Counts = Record<string, number>

type Phase = {
  server: Awaited<ReturnType<typeof startImagegate>>
  counts(): Counts
  accept(count: number, runId: string): Promise<{ accepted: Summary; ids: string[] }>
  stop(): Promise<void>
}

/** A fake upstream answering after `upstreamMs`, and a server on `dataDir` in front of it. */
async function startPhase(
  dataDir: string,
  upstreamMs: number,
  concurrency: number,
): Promise<Phase> {
  const upstream = await startService(CLIENT_CORE, 'bench/workers/fake-upstream.ts', {
    delayMs: upstreamMs,
  })
  const server = await startImagegate({
    IMAGEGATE_DATA_DIR: dataDir,
    IMAGEGATE_OPENAI_API_KEY: 'sk-bench',
    IMAGEGATE_OPENAI_BASE_URL: `${upstream.line}/v1`,
    IMAGEGATE_JOB_CONCURRENCY: String(concurrency),
    IMAGEGATE_JOB_WORKSPACE_CONCURRENCY: String(concurrency),
    IMAGEGATE_JOB_LEASE_MS: String(LEASE_MS),
    IMAGEGATE_SHUTDOWN_GRACE_MS: '0',
  })
  const db = openSqlite(path.join(dataDir, 'imagegate.db'), 'NORMAL')
  return {
    server,
    counts: () =>
      Object.fromEntries(
        (
          db.prepare('SELECT state, count(*) AS n FROM generation_jobs GROUP BY state').all() as {
            state: string
            n: number
          }[]
        ).map((row) => [row.state, row.n]),
      ),
    accept: (count, runId) =>
      runWorker(CLIENT_CORE, 'bench/workers/jobs-client.ts', {
        url: `${server.url}/v1/images/generations`,
        headers: server.auth,
        count,
        runId,
      }),
    async stop() {
      db.close()
      await server.stop()
      await upstream.stop()
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
export async function jobBenchmarks(context: SuiteContext): Promise<Row[]> {
  const jobs = context.quick ? 200 : 1000
  const dataDir = path.join(context.workDir, 'jobs')

  // The 202s, and a full queue: the first server runs one job at a time against an upstream
  // that does not answer within the phase, so the accepts being timed share the server with
  // nothing else and every other job stays queued.
  context.log(`jobs: ${jobs} accepts in front of an upstream that does not answer`)
  const filling = await startPhase(dataDir, 600_000, 1)
  let accepted: Summary
  try {
    await filling.accept(20, 'warmup')
    accepted = (await filling.accept(jobs, Date.now().toString(36))).accepted
  } finally {
    await filling.stop()
  }

  // The next server on the same data drains the queue at CONCURRENCY; the one job the first
  // left at its provider is closed once its lease runs out, not sent again.
  context.log(
    `jobs: draining ${jobs} queued jobs against an upstream answering in ${UPSTREAM_MS} ms`,
  )
  const phase = await startPhase(dataDir, UPSTREAM_MS, CONCURRENCY)
  try {
    const startedAt = performance.now()
    const finished = (counts: Counts) =>
      (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0)
    // RSS from once the server is warm (modules loaded, first images stored).
    while (finished(phase.counts()) < 50) {
      await sleep(20)
    }
    const rssBefore = readRssBytes(phase.server.pid)
    let rssMax = rssBefore
    let runningMax = 0
    const runningSamples: number[] = []
    let final: Counts = {}
    for (;;) {
      final = phase.counts()
      const done = finished(final)
      runningMax = Math.max(runningMax, final.running ?? 0)
      if ((final.queued ?? 0) > 0) {
        runningSamples.push(final.running ?? 0)
      }
      rssMax = Math.max(rssMax, readRssBytes(phase.server.pid))
      if (done >= jobs + 20) {
        break
      }
      await sleep(100)
    }
    const drainMs = performance.now() - startedAt
    // With jobs waiting, how many ran at once on average; each spends UPSTREAM_MS upstream.
    const meanRunning =
      runningSamples.reduce((sum, value) => sum + value, 0) / Math.max(1, runningSamples.length)
    const upstreamBound = (jobs * UPSTREAM_MS) / CONCURRENCY
    const growthMiB = (rssMax - rssBefore) / MiB
    context.details.jobs = {
      jobs,
      accepted,
      drainMs,
      final,
      runningMax,
      meanRunning,
      samples: runningSamples.length,
      rssBefore,
      rssMax,
    }
    return [
      {
        group: GROUP,
        metric: '202 answer, p50 (sequential, one connection)',
        value: accepted.p50,
        unit: 'ms',
        target: `≤ ${TARGETS.acceptP50Ms} ms`,
        pass: accepted.p50 <= TARGETS.acceptP50Ms,
        note: `p99 ${accepted.p99} ms over ${accepted.n} accepts`,
      },
      {
        group: GROUP,
        metric: `jobs running at once while ${jobs} drain (mean of samples with a queue)`,
        value: round(meanRunning, 1),
        unit: 'jobs',
        baseline: { value: CONCURRENCY, label: 'IMAGEGATE_JOB_CONCURRENCY' },
        ratio: round(meanRunning / CONCURRENCY),
        target: `≥ ${TARGETS.concurrencyRatio}x, never above`,
        pass: meanRunning / CONCURRENCY >= TARGETS.concurrencyRatio && runningMax <= CONCURRENCY,
        note: `max ${runningMax} over ${runningSamples.length} samples; ${final.succeeded ?? 0} succeeded, ${final.failed ?? 0} failed (left at the provider by the first server)`,
      },
      {
        group: GROUP,
        metric: `drain time of ${jobs} jobs (${UPSTREAM_MS} ms upstream each)`,
        value: round(drainMs / 1000, 1),
        unit: 's',
        baseline: { value: round(upstreamBound / 1000, 1), label: 'jobs × upstream ÷ concurrency' },
        ratio: round(drainMs / upstreamBound),
        target: 'info',
        pass: undefined,
      },
      {
        group: GROUP,
        metric: `server RSS growth while ${jobs} jobs drain`,
        value: round(growthMiB, 1),
        unit: 'MiB',
        target: `< ${TARGETS.rssGrowthMiB} MiB`,
        pass: growthMiB < TARGETS.rssGrowthMiB,
        note: `${round(rssBefore / MiB, 1)} → ${round(rssMax / MiB, 1)} MiB at most`,
      },
    ]
  } finally {
    await phase.stop()
  }
}
