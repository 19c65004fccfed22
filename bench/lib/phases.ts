import { type Summary, summarize } from './stats.ts'

export type PhaseOptions = {
  concurrency: number
  /** Untimed phase first (JIT, connections, page cache, SQLite). */
  warmupMs: number
  durationMs: number
  /** Upper bound on operations per phase, so fast machines do not fill the disk. */
  maxCount: number
  repeats: number
}

export type PhaseResult = {
  count: number
  failures: number
  bytes: number
  elapsedMs: number
  opsPerSecond: number
  latencyMs: Summary
  firstFailure?: string
  /** CPU time of this process (the client, or the in-process baseline) during the phase. */
  cpuMs: number
}

export type PhaseRuns = {
  runs: PhaseResult[]
  /** Operations started in all phases, warm-up included (to divide a server's CPU time by). */
  totalOps: number
}

/**
 * Runs `operation` from `concurrency` lanes until the time or the count runs out; one warm-up
 * phase, then `repeats` measured ones. `operation` returns the bytes it moved.
 */
export async function runPhases(
  options: PhaseOptions,
  operation: (sequence: number) => Promise<number>,
): Promise<PhaseRuns> {
  let sequence = 0
  const phase = async (durationMs: number, maxCount: number): Promise<PhaseResult> => {
    const started = performance.now()
    const cpuStarted = process.cpuUsage()
    const latencies: number[] = []
    let launched = 0
    let failures = 0
    let bytes = 0
    let firstFailure: string | undefined
    const lane = async () => {
      while (launched < maxCount && performance.now() - started < durationMs) {
        launched++
        const opStarted = performance.now()
        try {
          // Awaited first: `bytes += await …` would read `bytes` before the wait and drop
          // what the other lanes added meanwhile.
          const moved = await operation(sequence++)
          bytes += moved
          latencies.push(performance.now() - opStarted)
        } catch (err) {
          failures++
          firstFailure ??= err instanceof Error ? err.message : String(err)
        }
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, lane))
    const elapsedMs = performance.now() - started
    const cpu = process.cpuUsage(cpuStarted)
    return {
      cpuMs: (cpu.user + cpu.system) / 1000,
      count: latencies.length,
      failures,
      bytes,
      elapsedMs,
      opsPerSecond: (latencies.length / elapsedMs) * 1000,
      latencyMs: summarize(latencies),
      ...(firstFailure ? { firstFailure } : {}),
    }
  }
  if (options.warmupMs > 0) {
    await phase(options.warmupMs, options.maxCount)
  }
  const results: PhaseResult[] = []
  for (let index = 0; index < options.repeats; index++) {
    results.push(await phase(options.durationMs, options.maxCount))
  }
  return { runs: results, totalOps: sequence }
}
