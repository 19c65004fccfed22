import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'

/**
 * A PostgreSQL server of a test's own: `initdb` into a temp dir, `postgres` on a free loopback
 * port. Fault tests stop, kill and restart it; the machine's shared server is never touched.
 * PostgreSQL refuses to run as root, so under root both run as the `postgres` user.
 */
export type PgCluster = {
  port: number
  /** Superuser URL of the `postgres` database. */
  adminUrl: string
  /** Starts the server (again) on the same data dir and port; resolves once it accepts connections. */
  start(): Promise<void>
  /** Fast shutdown (SIGINT): open connections are cut, nothing is lost. */
  stop(): Promise<void>
  /** SIGKILL of the postmaster: the next start runs crash recovery. */
  kill(): Promise<void>
  /** Stops the server and removes its files. */
  destroy(): Promise<void>
}

function binDir(): string {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) {
    throw new Error(
      'PostgreSQL binaries not found under /usr/lib/postgresql (run scripts/setup.sh)',
    )
  }
  const newest = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))[0]
  if (!newest) {
    throw new Error('no PostgreSQL version under /usr/lib/postgresql')
  }
  return path.join(root, newest, 'bin')
}

const asRoot = process.getuid?.() === 0

/** A port the kernel just handed out on loopback, closed again for the server to take. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** The command line that runs `binary` as a user PostgreSQL accepts. */
function command(binary: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args]
}

async function waitUntilAccepting(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs
  let lastError: unknown
  while (Date.now() < until) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      await client.end()
      return
    } catch (err) {
      lastError = err
      await client.end().catch(() => {})
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error(`private PostgreSQL did not accept connections: ${String(lastError)}`)
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = binDir()
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-pg-'))
  const dataDir = path.join(dir, 'data')
  if (asRoot) {
    const ids = execFileSync('id', ['-u', 'postgres']).toString().trim()
    const gid = execFileSync('id', ['-g', 'postgres']).toString().trim()
    chownSync(dir, Number(ids), Number(gid))
  }
  const [initdb, initArgs] = command(path.join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
  ])
  execFileSync(initdb, initArgs, { stdio: 'pipe' })
  const port = await freePort()
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`
  let server: ChildProcess | undefined

  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve()
      } else {
        child.once('exit', () => resolve())
      }
    })

  const halt = async (signal: NodeJS.Signals) => {
    const child = server
    server = undefined
    if (!child) {
      return
    }
    const done = exited(child)
    // Signals go to the postmaster itself (the first line of postmaster.pid), not to runuser,
    // which would not pass every signal on. Its backends notice a killed postmaster and exit.
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    process.kill(pid, signal)
    await done
  }

  const cluster: PgCluster = {
    port,
    adminUrl,
    async start() {
      if (server) {
        return
      }
      const [postgres, args] = command(path.join(bin, 'postgres'), [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dir}`,
        '-c',
        'fsync=off',
        '-c',
        'max_connections=200',
      ])
      server = spawn(postgres, args, { stdio: 'ignore' })
      await waitUntilAccepting(adminUrl, 30_000)
    },
    stop: () => halt('SIGINT'),
    kill: () => halt('SIGKILL'),
    async destroy() {
      await halt('SIGINT')
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await cluster.start()
  return cluster
}
