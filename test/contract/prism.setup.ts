import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { startPrism, startServer, stop } from '../support/processes.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    prismMockUrl: string
    prismProxyUrl: string
    serverUrl: string
    /** The real server's bootstrap admin key (the /v1 routes need one). */
    serverKey: string
  }
}

/**
 * Starts `prism mock`, the real server, and `prism proxy --errors` in front of it. The mock
 * checks that a request carries the bearer credentials the spec asks for (any value will do);
 * the proxy forwards the Authorization header to the server, which checks the key itself.
 */
export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-contract-'))
  const [mock, server] = await Promise.all([
    startPrism('mock'),
    startServer({ IMAGEGATE_DATA_DIR: dataDir, IMAGEGATE_LOG_LEVEL: 'info' }),
  ])
  const proxy = await startPrism('proxy', server.url)
  project.provide('prismMockUrl', mock.url)
  project.provide('prismProxyUrl', proxy.url)
  project.provide('serverUrl', server.url)
  project.provide('serverKey', server.key)
  return async () => {
    await Promise.all([stop(mock.child), stop(proxy.child), stop(server.child)])
    rmSync(dataDir, { recursive: true, force: true })
  }
}
