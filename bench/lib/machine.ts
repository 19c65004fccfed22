import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import path from 'node:path'

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
 * which at least one task waited for a CPU. That includes the benchmark's own threads: a
 * server's event loop and its thread pool (file calls, libvips) share the server's pinned core
 * and wait for each other, so suites heavy on the pool show a high share with nothing else
 * running. Other work on the machine (builds, test runs) adds to it.
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

/** Ticks of all CPUs from /proc/stat: [steal, total of user..steal], if available. */
function cpuTicks(): [number, number] | undefined {
  try {
    const fields = /^cpu\s+(.*)$/m
      .exec(readFileSync('/proc/stat', 'utf8'))?.[1]
      ?.trim()
      .split(/\s+/)
      .map(Number)
    if (!fields || fields.length < 8) {
      return undefined
    }
    // user nice system idle iowait irq softirq steal (guest time is counted within user).
    const counted = fields.slice(0, 8)
    return [counted[7] as number, counted.reduce((sum, ticks) => sum + ticks, 0)]
  } catch {
    return undefined
  }
}

/**
 * The share of CPU time the hypervisor gave to other guests while this VM wanted it (steal),
 * over a stretch of the run: contention from outside the machine, which pressure cannot tell
 * apart from the benchmark's own.
 */
export function cpuStealMeter() {
  const start = cpuTicks()
  return () => {
    const end = cpuTicks()
    if (start === undefined || end === undefined || end[1] === start[1]) {
      return undefined
    }
    return Math.round(((end[0] - start[0]) / (end[1] - start[1])) * 1000) / 10
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

/**
 * The CPU time, in µs, that creating one empty file took in a new directory under `parent`
 * (the mean of `count`). On ext4 without a journal it is several times higher for minutes after
 * many files nearby were removed, and every upload creates a file (see README, Performance).
 * The files are left for the run's clean-up: removing them would raise the cost again.
 */
export function fileCreationCostUs(parent: string, count = 100): number | undefined {
  try {
    const dir = mkdtempSync(path.join(parent, 'file-probe-'))
    const before = process.cpuUsage()
    for (let index = 0; index < count; index++) {
      closeSync(openSync(path.join(dir, String(index)), 'wx'))
    }
    const used = process.cpuUsage(before)
    return Math.round((used.user + used.system) / count)
  } catch {
    return undefined
  }
}
