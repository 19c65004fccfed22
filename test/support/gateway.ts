import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createImagegateClient } from '@imagegate/client'
import { type FakeUpstream, startFakeUpstream } from '../fakes/fake-upstream.ts'
import { bearer, repoRoot, startServer, stop } from './processes.ts'

type CatalogFile = { models: ({ id: string } & Record<string, unknown>)[] }

export function builtInCatalog(): CatalogFile {
  const file = path.join(repoRoot, 'services/api/src/catalog/default-models.json')
  return JSON.parse(readFileSync(file, 'utf8')) as CatalogFile
}

export type GatewayOptions = {
  /** Per-model changes to a copy of the built-in catalog, e.g. a short `timeoutMs`. */
  modelChanges?: Record<string, Record<string, unknown>>
  env?: Record<string, string>
}

/**
 * The real server process (tsx main.ts) on a private data dir, with the openai and gemini
 * providers pointed at a fake upstream on loopback.
 */
export async function startGateway(options: GatewayOptions = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-gw-'))
  const fake = await startFakeUpstream()
  const env: Record<string, string> = {
    IMAGEGATE_DATA_DIR: path.join(dir, 'data'),
    IMAGEGATE_LOG_LEVEL: 'info',
    IMAGEGATE_OPENAI_API_KEY: 'sk-fake',
    IMAGEGATE_OPENAI_BASE_URL: `${fake.url}/v1`,
    IMAGEGATE_GEMINI_API_KEY: 'gm-fake',
    IMAGEGATE_GEMINI_BASE_URL: `${fake.url}/v1beta`,
    ...options.env,
  }
  if (options.modelChanges) {
    const catalog = builtInCatalog()
    for (const model of catalog.models) {
      Object.assign(model, options.modelChanges[model.id])
    }
    env.IMAGEGATE_MODELS_FILE = path.join(dir, 'models.json')
    writeFileSync(env.IMAGEGATE_MODELS_FILE, JSON.stringify(catalog))
  }
  const server = await startServer(env).catch(async (err: unknown) => {
    await fake.close()
    throw err
  })
  // The per-provider retry budget starts empty and earns 10 retries/s: a gateway a few ms old
  // would not retry at all, which is not what the retry rows are about.
  await new Promise((resolve) => setTimeout(resolve, 200))
  return {
    fake,
    url: server.url,
    /** The bootstrap admin key of this gateway's workspace `default`. */
    key: server.key,
    dataDir: env.IMAGEGATE_DATA_DIR as string,
    output: server.output,
    client: createImagegateClient({ baseUrl: server.url, apiKey: server.key }),
    /** POSTs JSON (with the key) and returns status, headers and the parsed body, whatever the status. */
    async post(route: string, body: unknown, init: RequestInit = {}) {
      const started = performance.now()
      const { headers, ...rest } = init
      const response = await fetch(`${server.url}${route}`, {
        method: 'POST',
        body: JSON.stringify(body),
        ...rest,
        headers: {
          'content-type': 'application/json',
          ...bearer(server.key),
          ...(headers as Record<string, string> | undefined),
        },
      })
      // biome-ignore lint/suspicious/noExplicitAny: tests read error and success bodies alike
      const json = (await response.json()) as Record<string, any>
      return {
        status: response.status,
        headers: response.headers,
        body: json,
        ms: performance.now() - started,
      }
    },
    async close() {
      await stop(server.child)
      await fake.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export type Gateway = Awaited<ReturnType<typeof startGateway>>
export type { FakeUpstream }

/**
 * A data dir and a fake upstream that outlive the server processes started on them: for tests
 * that stop or kill a server and start the next one on the same data. Each `start()` is a new
 * process with the openai provider pointed at the fake; `exited` resolves with its exit code.
 * Everything made is handed to `onCleanup` to be undone after the test.
 */
export async function restartableGateway(
  env: Record<string, string>,
  onCleanup: (cleanup: () => Promise<void> | void) => void,
) {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-restart-'))
  const fake = await startFakeUpstream()
  onCleanup(async () => {
    await fake.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const dataDir = path.join(dir, 'data')
  const start = async () => {
    const server = await startServer({
      IMAGEGATE_DATA_DIR: dataDir,
      IMAGEGATE_OPENAI_API_KEY: 'sk-fake',
      IMAGEGATE_OPENAI_BASE_URL: `${fake.url}/v1`,
      ...env,
    })
    onCleanup(() => stop(server.child))
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve))
    return { ...server, exited }
  }
  return { fake, dataDir, start }
}
