import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { readManifest } from './packed-client.ts'

const contentTypes: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.png': 'image/png',
}

type Exports = { '.'?: string | { import?: string; default?: string } }

/** Where a browser's `import 'name'` lands: the package's `import` export, as an URL path. */
function entryOf(projectDir: string, name: string, prefix: string): string {
  const dir = path.join(projectDir, 'node_modules', name)
  const exported = (readManifest(dir) as { exports?: Exports }).exports?.['.']
  const file = typeof exported === 'string' ? exported : (exported?.import ?? exported?.default)
  if (!file) {
    throw new Error(`${name} exports no ESM entry`)
  }
  return `${prefix}/node_modules/${name}/${file.replace(/^\.\//, '')}`
}

/**
 * Serves `projectDir` under `<origin>/consumer/` to the page (the API stays on the same origin, so
 * no CORS is involved) and opens a page whose import map points the given bare specifiers at the
 * installed packages, then loads `script` from the project.
 */
export async function openConsumerPage(
  page: Page,
  origin: string,
  projectDir: string,
  specifiers: string[],
  script: string,
) {
  const prefix = '/consumer'
  await page.route(`${origin}${prefix}/**`, async (route) => {
    const file = path.join(projectDir, new URL(route.request().url()).pathname.slice(prefix.length))
    await route.fulfill({
      body: readFileSync(file),
      contentType: contentTypes[path.extname(file)] ?? 'application/octet-stream',
    })
  })
  const imports = Object.fromEntries(
    specifiers.map((name) => [name, entryOf(projectDir, name, prefix)]),
  )
  await page.route(`${origin}${prefix}/index.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><script type="importmap">${JSON.stringify({ imports })}</script>
<script type="module" src="${prefix}/${script}"></script>`,
    }),
  )
  await page.goto(`${origin}${prefix}/index.html`)
}
