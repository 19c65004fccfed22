import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'

export const repoRoot = path.resolve(import.meta.dirname, '../..')

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** Spawns a process and resolves once a line of its output matches `ready`. */
export async function spawnUntil(
  command: string,
  args: string[],
  options: { ready: RegExp; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string },
): Promise<{ child: ChildProcess; output: () => string; match: RegExpMatchArray }> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} did not become ready in time:\n${output}`))
    }, options.timeoutMs ?? 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const found = output.match(options.ready)
      if (found) {
        clearTimeout(timer)
        resolve(found)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${command} exited with ${code} before it was ready:\n${output}`))
    })
  })
  child.removeAllListeners('exit')
  return { child, output: () => output, match }
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) {
    return
  }
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill(signal)
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
  })
}

const prismBin = path.join(repoRoot, 'node_modules/.bin/prism')
const specFile = path.join(repoRoot, 'openapi/openapi.json')

/**
 * `prism mock` or `prism proxy --errors` on a free loopback port, serving the committed spec
 * unless `spec` names another copy (e.g. the one an installed package ships).
 */
export async function startPrism(
  mode: 'mock' | 'proxy',
  upstream?: string,
  spec: string = specFile,
) {
  const port = await freePort()
  const args =
    mode === 'mock'
      ? ['mock', '-h', '127.0.0.1', '-p', String(port), spec]
      : ['proxy', '-h', '127.0.0.1', '-p', String(port), '--errors', spec, upstream ?? '']
  const started = await spawnUntil(prismBin, args, {
    ready: /Prism is listening/,
    env: { SCARF_ANALYTICS: 'false' },
    timeoutMs: 60_000,
  })
  return { url: `http://127.0.0.1:${port}`, child: started.child }
}

/**
 * Limits and credits of the bootstrap workspace, high enough that no test trips them by
 * accident. Tests about limits and credits pass their own values in `env`.
 */
export const GENEROUS_ACCESS_ENV: Record<string, string> = {
  IMAGEGATE_KEY_REQUESTS_PER_MINUTE: '1000000',
  IMAGEGATE_KEY_IMAGES_PER_MINUTE: '1000000',
  IMAGEGATE_WORKSPACE_REQUESTS_PER_MINUTE: '1000000',
  IMAGEGATE_WORKSPACE_IMAGES_PER_MINUTE: '1000000',
  IMAGEGATE_BOOTSTRAP_CREDITS: '1000000',
}

/** The admin key the server's first start wrote to `<data dir>/bootstrap-key`. */
export function readBootstrapKey(dataDir: string | undefined): string {
  return readFileSync(path.resolve(repoRoot, dataDir ?? 'data', 'bootstrap-key'), 'utf8').trim()
}

/** `{ authorization: 'Bearer <key>' }`, for fetch calls. */
/** The JSON lines (pino's) of a process's output, parsed; everything else is left out. */
export function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/**
 * The real server (`node --import tsx services/api/src/main.ts`) on a free port with a private
 * data dir. One process, not the `tsx` CLI: that runs the server in a child of its own, so a
 * SIGKILL would end only the wrapper and leave the server running on the same data dir.
 * `key` is the bootstrap admin key (IMAGEGATE_BOOTSTRAP_ADMIN_KEY, or the one the first start
 * on that data dir wrote). Unless
 * `defaults` is true, limits and credits are GENEROUS_ACCESS_ENV's (env overrides them).
 */
export async function startServer(env: NodeJS.ProcessEnv, options: { defaults?: boolean } = {}) {
  const started = await spawnUntil(
    process.execPath,
    ['--import', 'tsx', 'services/api/src/main.ts'],
    {
      ready: /imagegate listening on (http:\/\/[\d.]+:\d+)/,
      env: { PORT: '0', ...(options.defaults ? {} : GENEROUS_ACCESS_ENV), ...env },
    },
  )
  return {
    url: started.match[1] as string,
    key: env.IMAGEGATE_BOOTSTRAP_ADMIN_KEY ?? readBootstrapKey(env.IMAGEGATE_DATA_DIR),
    child: started.child,
    output: started.output,
  }
}
