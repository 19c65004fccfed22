import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** The credentials s3rver accepts out of the box. */
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

export type S3TestServer = {
  /** `http://127.0.0.1:<port>`; path-style addressing only. */
  endpoint: string
  region: string
  bucket: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** Where the server keeps its objects (removed by `stop` unless the caller gave it). */
  directory: string
  /** Stops the process and removes its directory. Safe to call twice. */
  stop(): Promise<void>
}

export type S3TestServerOptions = {
  /** Fails the start when the server has not said it is listening by then. Default 15 s. */
  startTimeoutMs?: number
  /** The process exits on its own after this long, whatever happens to the test. Default 10 min. */
  lifetimeMs?: number
  /**
   * Where to keep the objects: a directory of the caller's, which `stop` leaves in place (fault
   * tests restart a stopped server on it). Default a fresh one, removed by `stop`.
   */
  directory?: string
  /** Default a fresh name; the bucket is created unless the directory has it. */
  bucket?: string
  /** Default a free port. */
  port?: number
}

function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = ''
    const fail = (reason: string) => {
      clearTimeout(timer)
      reject(new Error(`s3rver did not start: ${reason}\n${output}`))
    }
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs)
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      output += chunk
      const match = /listening (\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      output += chunk
    })
    child.once('error', (error) => fail(error.message))
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? code}`))
  })
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve()
  }
  return new Promise((resolve) => {
    const forced = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(forced)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/**
 * A real S3-compatible server (s3rver) in its own process on a free loopback port, with its own
 * directory and a fresh bucket (or the port, directory and bucket given, to restart one). The port is chosen by the kernel (port 0) inside the child, so
 * two test files never race for one. The child exits when this process goes away (its stdin
 * closes) or its lifetime runs out, so a crashed run leaves no server behind.
 */
export async function startS3TestServer(options: S3TestServerOptions = {}): Promise<S3TestServer> {
  const directory = options.directory ?? (await mkdtemp(path.join(tmpdir(), 'imagegate-s3rver-')))
  const bucket = options.bucket ?? `imagegate-test-${randomUUID().slice(0, 8)}`
  const script = path.join(import.meta.dirname, 's3rver-child.mjs')
  // Resolved here so the child finds the same s3rver this package depends on.
  createRequire(import.meta.url).resolve('s3rver')
  const child = spawn(
    process.execPath,
    [
      script,
      directory,
      bucket,
      String(options.lifetimeMs ?? 10 * 60_000),
      String(options.port ?? 0),
    ],
    { cwd: path.dirname(script), stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      await stopProcess(child)
      if (options.directory === undefined) {
        await rm(directory, { recursive: true, force: true })
      }
    })()
    return stopped
  }
  try {
    const listening = await waitForPort(child, options.startTimeoutMs ?? 15_000)
    return {
      endpoint: `http://127.0.0.1:${listening}`,
      region: 'us-east-1',
      bucket,
      credentials: S3RVER_CREDENTIALS,
      directory,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
