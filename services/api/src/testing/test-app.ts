import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { createImagegateClient } from '@imagegate/client'
import pino from 'pino'
import { createApp } from '../app.ts'
import { type Config, loadConfig } from '../config.ts'
import { createDeps, type DepsOverrides } from '../deps.ts'

export type TestAppOptions = DepsOverrides & { env?: Record<string, string> }

/**
 * An app on private dependencies: a temp data dir, an in-memory database, and logs captured as
 * parsed lines so tests can assert what was (and was not) logged.
 */
export function createTestApp(options: TestAppOptions = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-test-'))
  const config: Config = loadConfig({ IMAGEGATE_DATA_DIR: dataDir, ...options.env })
  const logLines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (line.trim()) {
          logLines.push(JSON.parse(line) as Record<string, unknown>)
        }
      }
      done()
    },
  })
  const deps = createDeps(config, {
    databaseFile: ':memory:',
    log: pino({ level: 'debug' }, sink),
    ...options,
  })
  const app = createApp(deps)
  const client = createImagegateClient({
    baseUrl: 'http://imagegate.test',
    fetch: async (request) => app.fetch(request),
  })
  return {
    app,
    deps,
    client,
    config,
    logLines,
    async close() {
      await deps.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export type TestApp = ReturnType<typeof createTestApp>
