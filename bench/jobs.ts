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
const TARGETS = { acceptP50Ms: 5, concurrencyRatio: 0.8, rssGrowthMiB: 64 }

type Counts = Record<string, number>

export async function jobBenchmarks(context: SuiteContext): Promise<Row[]> {
  const jobs = context.quick ? 200 : 1000
  const upstream = await startService(CLIENT_CORE, 'bench/workers/fake-upstream.ts', {
    delayMs: UPSTREAM_MS,
  })
  const dataDir = path.join(context.workDir, 'jobs')
  try {
    const server = await startImagegate({
      IMAGEGATE_DATA_DIR: dataDir,
      IMAGEGATE_OPENAI_API_KEY: 'sk-bench',
      IMAGEGATE_OPENAI_BASE_URL: `${upstream.line}/v1`,
      IMAGEGATE_JOB_CONCURRENCY: String(CONCURRENCY),
      IMAGEGATE_JOB_WORKSPACE_CONCURRENCY: String(CONCURRENCY),
    })
    const db = openSqlite(path.join(dataDir, 'imagegate.db'), 'NORMAL')
    const counts = (): Counts =>
      Object.fromEntries(
        (
          db.prepare('SELECT state, count(*) AS n FROM generation_jobs GROUP BY state').all() as {
            state: string
            n: number
          }[]
        ).map((row) => [row.state, row.n]),
      )
    try {
      // Warm-up: a few jobs through every path (claim, dispatch, store, settle).
      await runWorker(CLIENT_CORE, 'bench/workers/jobs-client.ts', {
        url: `${server.url}/v1/images/generations`,
        headers: server.auth,
        count: 20,
        runId: 'warmup',
      })
      while ((counts().succeeded ?? 0) < 20) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const rssBefore = readRssBytes(server.pid)
      context.log(`jobs: accepting ${jobs} with Prefer: respond-async (upstream ${UPSTREAM_MS} ms)`)
      const acceptedAt = performance.now()
      const { accepted } = await runWorker<{ accepted: Summary; ids: string[] }>(
        CLIENT_CORE,
        'bench/workers/jobs-client.ts',
        {
          url: `${server.url}/v1/images/generations`,
          headers: server.auth,
          count: jobs,
          runId: Date.now().toString(36),
        },
      )
      context.log(`jobs: draining; 202 p50 ${accepted.p50} ms`)
      let rssMax = rssBefore
      let runningMax = 0
      const runningSamples: number[] = []
      let done = 0
      for (;;) {
        const now = counts()
        done = (now.succeeded ?? 0) + (now.failed ?? 0) + (now.cancelled ?? 0) - 20
        runningMax = Math.max(runningMax, now.running ?? 0)
        if ((now.queued ?? 0) > 0) {
          runningSamples.push(now.running ?? 0)
        }
        rssMax = Math.max(rssMax, readRssBytes(server.pid))
        if (done >= jobs) {
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const drainMs = performance.now() - acceptedAt
      const final = counts()
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
          note: `max ${runningMax}; ${final.succeeded ?? 0} succeeded, ${final.failed ?? 0} failed`,
        },
        {
          group: GROUP,
          metric: `drain time of ${jobs} jobs (${UPSTREAM_MS} ms upstream each)`,
          value: round(drainMs / 1000, 1),
          unit: 's',
          baseline: {
            value: round(upstreamBound / 1000, 1),
            label: 'jobs × upstream ÷ concurrency',
          },
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
      db.close()
      await server.stop()
    }
  } finally {
    await upstream.stop()
  }
}
