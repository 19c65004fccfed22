import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, stop } from '../support/processes.ts'

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

describe('Swagger UI at /docs in headless Chromium', () => {
  let server: Awaited<ReturnType<typeof startServer>>
  let browser: Browser
  const dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-docs-'))
  const outbound: string[] = []

  beforeAll(async () => {
    server = await startServer({ IMAGEGATE_DATA_DIR: dataDir })
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await stop(server.child)
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('renders offline and lists the operations of the contract', async () => {
    const page = await browser.newPage()
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) {
        outbound.push(request.url())
      }
    })
    await page.goto(`${server.url}/docs`)
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 })
    const paths = await page.$$eval('.opblock-summary-path', (nodes) =>
      nodes.map((node) => node.getAttribute('data-path') ?? node.textContent ?? ''),
    )
    expect(paths).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics']))
    expect(await page.textContent('.info .title')).toContain('imagegate')
    expect(outbound).toEqual([])
  })
})
