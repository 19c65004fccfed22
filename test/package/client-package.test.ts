import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noisePng } from '../fakes/noise-png.ts'
import { repoRoot, startPrism, startServer, stop } from '../support/processes.ts'
import { openConsumerPage } from './browser-page.ts'
import { installInEmptyProject, outsiderEnv, packClient, readManifest } from './packed-client.ts'

const run = promisify(execFile)
const fixtures = path.join(import.meta.dirname, 'consumer')
const committedSpec = readFileSync(path.join(repoRoot, 'openapi/openapi.json'))
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

// Outside the workspace: nothing above the project can lend it a node_modules.
const work = mkdtempSync(path.join(tmpdir(), 'imagegate-package-'))
const project = path.join(work, 'project')
const installed = path.join(project, 'node_modules/@imagegate/client')
const png = noisePng(64, 64, 0x5eed)
const pngFile = path.join(project, 'reference.png')
let env: NodeJS.ProcessEnv
let tarballEntries: string[]
let server: Awaited<ReturnType<typeof startServer>> | undefined

beforeAll(async () => {
  mkdirSync(project)
  mkdirSync(path.join(work, 'home'))
  env = outsiderEnv(path.join(work, 'home'))
  const packAndInstall = async () => {
    const packed = await packClient(work, env)
    const { stdout } = await run('tar', ['-tzf', packed.tarball])
    tarballEntries = stdout.split('\n').filter(Boolean)
    await installInEmptyProject(project, packed, env)
    cpSync(fixtures, project, { recursive: true })
    writeFileSync(pngFile, png)
  }
  ;[server] = await Promise.all([
    startServer({ IMAGEGATE_DATA_DIR: path.join(work, 'data') }),
    packAndInstall(),
  ])
})

afterAll(async () => {
  if (server) {
    await stop(server.child)
  }
  rmSync(work, { recursive: true, force: true })
})

function realServer() {
  if (!server) {
    throw new Error('the server did not start')
  }
  return server
}

describe('the packed @imagegate/client', () => {
  it('ships ESM and declarations, the contract and a README, and no sources or tests', () => {
    const files = tarballEntries.map((entry) => entry.replace(/^package\//, ''))
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'openapi.json',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/schema.d.ts',
      ]),
    )
    const shipped = /^(dist\/[\w-]+\.(js|d\.ts)|openapi\.json|package\.json|README\.md)$/
    expect(files.filter((file) => !shipped.test(file))).toEqual([])
    expect(files.filter((file) => file.includes('.test.'))).toEqual([])
    for (const file of files.filter((name) => name.endsWith('.js'))) {
      expect(files).toContain(file.replace(/\.js$/, '.d.ts'))
    }
  })

  it('imports nothing but its own files and openapi-fetch: no Node built-ins', () => {
    const dist = path.join(installed, 'dist')
    const specifiers = readdirSync(dist)
      .filter((file) => file.endsWith('.js'))
      .flatMap((file) =>
        [...readFileSync(path.join(dist, file), 'utf8').matchAll(/from ['"]([^'"]+)['"]/g)].map(
          (match) => match[1],
        ),
      )
    expect(specifiers.length).toBeGreaterThan(0)
    expect(specifiers.filter((s) => !s?.startsWith('./') && s !== 'openapi-fetch')).toEqual([])
  })

  it('declares ESM with types, no side effects, and the engines of the server', () => {
    const server = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
    expect(readManifest(installed)).toMatchObject({
      type: 'module',
      sideEffects: false,
      engines: server.engines,
      exports: {
        '.': { types: './dist/index.d.ts', import: './dist/index.js' },
        './openapi.json': './openapi.json',
      },
    })
  })

  it('carries the committed openapi.json byte for byte, and the version of that API', () => {
    const shipped = readFileSync(path.join(installed, 'openapi.json'))
    expect(shipped.equals(committedSpec)).toBe(true)
    const spec = JSON.parse(shipped.toString('utf8')) as { info: { version: string } }
    expect(readManifest(installed).version).toBe(spec.info.version)
  })

  it('runs from a plain node ESM script against a real server process', async () => {
    const { url, key } = realServer()
    const { stdout } = await run(process.execPath, ['gateway-calls.mjs', url, key, pngFile], {
      cwd: project,
      env,
    })
    const report = JSON.parse(stdout)

    expect(report.generation.assetId).toMatch(/^ast_/)
    expect(report.generation.downloadedHash).toBe(report.generation.contentHash)
    expect(report.generation.downloadedSha256).toBe(report.generation.contentHash)
    expect(report.generation.mediaType).toBe('image/png')
    expect(report.refinement.parentGenerationId).toBe(report.generation.id)

    const digest = createHash('sha256').update(png).digest('hex')
    expect(report.upload).toMatchObject({
      contentHash: digest,
      sizeBytes: png.byteLength,
      created: true,
      againId: report.upload.id,
      againCreated: false,
    })
    expect(report.edit.images).toBe(1)

    // Generated, refined, edited and uploaded: each asset listed once across the pages.
    expect(report.pagedIds).toHaveLength(new Set(report.pagedIds).size)
    expect(report.pagedIds).toEqual(
      expect.arrayContaining([report.generation.assetId, report.upload.id]),
    )
    expect(report.pagedIds.length).toBeGreaterThanOrEqual(4)

    expect(report.notFound).toEqual({
      isImagegateError: true,
      name: 'ImagegateError',
      status: 404,
      code: 'not_found',
      requestId: expect.stringMatching(/^req_/),
    })
  })

  it('runs in headless Chromium from an import map, on the platform fetch and Web Crypto', async () => {
    const { url, key } = realServer()
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    })
    try {
      const page = await browser.newPage()
      const dependencies = Object.keys(
        (readManifest(installed) as { dependencies?: object }).dependencies ?? {},
      )
      await openConsumerPage(
        page,
        url,
        project,
        ['@imagegate/client', ...dependencies],
        'browser-calls.mjs',
      )
      type Calls = { imagegateCalls?: (...args: string[]) => Promise<Record<string, unknown>> }
      await page.waitForFunction(() => typeof (window as Calls).imagegateCalls === 'function')
      const report = await page.evaluate(
        ([baseUrl, apiKey, pngUrl]) =>
          (window as Calls).imagegateCalls?.(baseUrl ?? '', apiKey ?? '', pngUrl ?? ''),
        [url, key, `${url}/consumer/reference.png`],
      )
      expect(report?.downloadedHash).toBe(report?.contentHash)
      expect(report?.uploadedHash).toBe(createHash('sha256').update(png).digest('hex'))
      expect(report?.notFound).toEqual({ isImagegateError: true, code: 'not_found' })
    } finally {
      await browser.close()
    }
  })

  it('type-checks a TypeScript consumer (Node and bundler resolution); misspelt fields fail', async () => {
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc')
    const typeCheck = (moduleResolution: 'NodeNext' | 'Bundler') => {
      const config = path.join(project, `tsconfig.${moduleResolution.toLowerCase()}.json`)
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: moduleResolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
            moduleResolution,
            lib: ['ES2022', 'DOM', 'DOM.Iterable'],
            types: [],
            strict: true,
            noEmit: true,
            // The package's declarations are checked, not only their use; TypeScript's own
            // lib files (most of the time otherwise) are not.
            skipLibCheck: false,
            skipDefaultLibCheck: true,
          },
          files: ['typed-consumer.ts'],
        }),
      )
      return run(process.execPath, [tsc, '-p', config], { cwd: project, env }).then(
        () => ({ ok: true, output: '' }),
        (error: { stdout: string }) => ({ ok: false, output: error.stdout }),
      )
    }
    // tsc fails on an `@ts-expect-error` line that is not an error (TS2578), so the misspelt
    // fields in the consumer must keep failing to compile for this to pass.
    const [nodeNext, bundler] = await Promise.all([typeCheck('NodeNext'), typeCheck('Bundler')])
    expect(nodeNext).toEqual({ ok: true, output: '' })
    expect(bundler).toEqual({ ok: true, output: '' })
  })

  it('serves prism mock from the packaged openapi.json to the installed client', async () => {
    const specFile = path.join(installed, 'openapi.json')
    const prism = await startPrism('mock', undefined, specFile)
    try {
      const { stdout } = await run(process.execPath, ['mock-calls.mjs', prism.url], {
        cwd: project,
        env,
      })
      const report = JSON.parse(stdout)
      const spec = JSON.parse(readFileSync(specFile, 'utf8'))
      expect(report.generated).toEqual(spec.components.schemas.ImageGenerationResponse.example)
      expect(report.modelIds.length).toBeGreaterThan(0)
      expect(report.notFound).toEqual({ isImagegateError: true, status: 404, code: 'not_found' })
    } finally {
      await stop(prism.child)
    }
  })
})
