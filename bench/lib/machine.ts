import { readFileSync } from 'node:fs'

/** Cumulative µs during which some runnable task waited for a CPU (Linux PSI), if available. */
function cpuStallUs(): number | undefined {
  try {
    const match = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

/**
 * Measures how contended the CPUs were over a stretch of the run: the share of wall time during
 * which at least one task waited for a CPU. Our own pinned server and client each have a core,
 * so a high share mostly means other work on the machine (other builds, test runs).
 */
export function cpuPressureMeter() {
  const startUs = cpuStallUs()
  const startedAt = performance.now()
  return () => {
    const endUs = cpuStallUs()
    if (startUs === undefined || endUs === undefined) {
      return undefined
    }
    const wallUs = (performance.now() - startedAt) * 1000
    return Math.round(((endUs - startUs) / wallUs) * 100)
  }
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  } catch {
    return 'unknown'
  }
}

/** The share of the last 10 s during which a task waited for a CPU (PSI avg10), if available. */
function cpuPressureAvg10(): number | undefined {
  try {
    const match = /^some avg10=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

/**
 * Waits (up to `maxMs`) for the machine to calm down before a suite: other jobs on a 2-core
 * box (test runs, type checks) otherwise land in the middle of a measurement.
 */
export async function waitForQuiet(maxMs: number, threshold = 25): Promise<number | undefined> {
  const deadline = Date.now() + maxMs
  let pressure = cpuPressureAvg10()
  while (pressure !== undefined && pressure > threshold && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    pressure = cpuPressureAvg10()
  }
  return pressure
}
