import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { freePort, readBootstrapKey, repoRoot } from '../../test/support/processes.ts'

export { freePort, repoRoot }

/** Limits no benchmark reaches (they stay switched on: their cost is part of every figure). */
export const BENCH_ACCESS_ENV: Record<string, string> = {
  IMAGEGATE_KEY_REQUESTS_PER_MINUTE: '1000000000',
  IMAGEGATE_KEY_IMAGES_PER_MINUTE: '1000000000',
  IMAGEGATE_WORKSPACE_REQUESTS_PER_MINUTE: '1000000000',
  IMAGEGATE_WORKSPACE_IMAGES_PER_MINUTE: '1000000000',
  IMAGEGATE_BOOTSTRAP_CREDITS: '1000000000',
}

/** The server and everything it is compared with run here... */
export const SERVER_CORE = 0
/** ...and every load generator (and the fake upstream) here. */
export const CLIENT_CORE = 1

const children = new Set<ChildProcess>()

/** `taskset -c <core> node --import tsx <script> ...`: taskset execs, so the pid is node's. */
export function spawnPinned(
  core: number,
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[]; stdio?: 'pipe' | 'inherit' } = {},
): ChildProcess {
  const child = spawn(
    'taskset',
    [
      '-c',
      String(core),
      process.execPath,
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      path.resolve(repoRoot, script),
      ...args,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Kills whatever this process started and is still running (on errors and Ctrl-C). */
export function killChildren() {
  for (const child of children) {
    child.kill('SIGKILL')
  }
}

/** Runs a worker to completion; its last stdout line is its JSON result. */
export async function runWorker<T>(core: number, script: string, input: unknown): Promise<T> {
  const child = spawnPinned(core, script, [JSON.stringify(input)])
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  const last = stdout.trim().split('\n').at(-1) ?? ''
  if (code !== 0) {
    throw new Error(`${script} exited with ${code}:\n${stderr}${stdout}`)
  }
  return JSON.parse(last) as T
}

/** A long-running worker that prints one ready line (e.g. its URL) and then serves. */
export async function startService(
  core: number,
  script: string,
  input: unknown,
  options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
) {
  const child = spawnPinned(core, script, [JSON.stringify(input)], options)
  let output = ''
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready:\n${output}`)), 30_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const newline = output.indexOf('\n')
      if (newline >= 0) {
        clearTimeout(timer)
        resolve(output.slice(0, newline).trim())
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code}:\n${output}`))
    })
  })
  child.removeAllListeners('exit')
  return { child, pid: child.pid as number, line: firstLine, stop: () => stopChild(child) }
}

export async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return
  }
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref()
  })
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`server exited with ${child.exitCode}:\n${output()}`)
    }
    try {
      const response = await fetch(url)
      if (response.ok) {
        await response.arrayBuffer()
        return
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} did not answer in time:\n${output()}`)
}

export type Imagegate = {
  url: string
  /** The bootstrap admin key (every /v1 route needs one). */
  key: string
  /** `{ authorization: 'Bearer <key>' }` */
  auth: Record<string, string>
  pid: number
  child: ChildProcess
  stop(): Promise<void>
}

/**
 * The real server (`services/api/src/main.ts`) pinned to SERVER_CORE at log level warn, ready
 * once /healthz answers (the "listening" line is info level). BENCH_SERVER_NODE_OPTIONS adds
 * node flags, e.g. `--cpu-prof --cpu-prof-dir=bench/.tmp/prof`. Rate limits and credits are
 * set far above what a benchmark spends (`env` overrides them); `key` is the bootstrap key
 * (IMAGEGATE_BOOTSTRAP_ADMIN_KEY, or the one the first start wrote to the data dir);
 * `nodeArgs` adds flags for this server only (bench/scale-trace.ts preloads its tracer).
 */
export async function startImagegate(
  env: NodeJS.ProcessEnv,
  options: { nodeArgs?: string[] } = {},
): Promise<Imagegate> {
  const port = await freePort()
  const nodeArgs = [
    ...(process.env.BENCH_SERVER_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
    ...(options.nodeArgs ?? []),
  ]
  const child = spawnPinned(SERVER_CORE, 'services/api/src/main.ts', [], {
    nodeArgs,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      IMAGEGATE_LOG_LEVEL: 'warn',
      IMAGEGATE_GC_INTERVAL_MS: '0',
      ...BENCH_ACCESS_ENV,
      ...env,
    },
  })
  let output = ''
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`, child, () => output)
  const key = env.IMAGEGATE_BOOTSTRAP_ADMIN_KEY ?? readBootstrapKey(env.IMAGEGATE_DATA_DIR)
  return {
    url,
    key,
    auth: { authorization: `Bearer ${key}` },
    pid: child.pid as number,
    child,
    stop: () => stopChild(child),
  }
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (!match) {
    throw new Error(`no VmRSS for pid ${pid}`)
  }
  return Number(match[1]) * 1024
}

/** User + system CPU time of a process (all its threads) in ms, from /proc/<pid>/stat. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100
