import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { cruise, type IForbiddenRuleType } from 'dependency-cruiser'
import { afterEach, describe, expect, it } from 'vitest'

/**
 * `pnpm depcheck` runs these rules over the real tree; here they run over small made-up trees,
 * so a rule that stopped catching what it names would fail a test rather than pass silently.
 */
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as {
  forbidden: IForbiddenRuleType[]
}

let root: string | undefined
afterEach(() => {
  if (root) {
    rmSync(root, { recursive: true, force: true })
  }
  root = undefined
})

/** Writes `files` (path under services/api/src → source) and returns the rules they break. */
async function violations(files: Record<string, string>): Promise<string[]> {
  root = mkdtempSync(path.join(tmpdir(), 'imagegate-depcheck-'))
  for (const [name, source] of Object.entries(files)) {
    const file = path.join(root, 'services/api/src', name)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, source)
  }
  const result = await cruise(
    ['services/api/src'],
    {
      baseDir: root,
      validate: true,
      ruleSet: { forbidden: config.forbidden },
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
    },
    { extensions: ['.ts'] },
  )
  if (typeof result.output === 'string') {
    throw new Error('expected a cruise result, got a report')
  }
  return result.output.summary.violations
    .map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`)
    .sort()
}

const clean = {
  'routes/assets/get.ts':
    "import { getAsset } from '../../services/assets.ts'\nexport const a = getAsset\n",
  'services/assets.ts':
    "import { readRow } from '../db/rows.ts'\nimport { fail } from '../errors/app-error.ts'\nexport const getAsset = () => readRow() ?? fail()\n",
  'db/rows.ts': 'export const readRow = () => 1\n',
  'errors/app-error.ts': 'export const fail = () => 0\n',
  'http/env.ts':
    "import type { getAsset } from '../services/assets.ts'\nexport type Env = typeof getAsset\n",
}

describe('the layer rules', () => {
  it('accept imports that point down', async () => {
    expect(await violations(clean)).toEqual([])
  })

  it('refuse a service that imports http/', async () => {
    expect(
      await violations({
        ...clean,
        'services/assets.ts': "import type { Env } from '../http/env.ts'\nexport type E = Env\n",
      }),
    ).toContain(
      'http-stays-on-top: services/api/src/services/assets.ts → services/api/src/http/env.ts',
    )
  })

  it('refuse an import cycle', async () => {
    const found = await violations({
      ...clean,
      'db/rows.ts': "import { fail } from '../errors/app-error.ts'\nexport const readRow = fail\n",
      'errors/app-error.ts':
        "import { readRow } from '../db/rows.ts'\nexport const fail = readRow\n",
    })
    expect(found.filter((line) => line.startsWith('no-circular')).length).toBeGreaterThan(0)
  })

  it('refuse a layer below services that imports a service', async () => {
    expect(
      await violations({
        ...clean,
        'db/rows.ts':
          "import { getAsset } from '../services/assets.ts'\nexport const readRow = getAsset\n",
      }),
    ).toContain(
      'services-stay-above-domain: services/api/src/db/rows.ts → services/api/src/services/assets.ts',
    )
  })

  it('refuse a route that reaches the database itself', async () => {
    expect(
      await violations({
        ...clean,
        'routes/assets/get.ts':
          "import { readRow } from '../../db/rows.ts'\nexport const a = readRow\n",
      }),
    ).toContain(
      'routes-go-through-services: services/api/src/routes/assets/get.ts → services/api/src/db/rows.ts',
    )
  })

  it('let a route name a row type', async () => {
    expect(
      await violations({
        ...clean,
        'routes/assets/get.ts':
          "import type { readRow } from '../../db/rows.ts'\nexport type A = typeof readRow\n",
      }),
    ).toEqual([])
  })

  it('refuse product code that loads a testing/ helper, and let tests do it', async () => {
    const found = await violations({
      ...clean,
      'testing/fake.ts': 'export const fake = 1\n',
      'services/assets.ts':
        "import { fake } from '../testing/fake.ts'\nexport const getAsset = () => fake\n",
      'services/assets.test.ts':
        "import { fake } from '../testing/fake.ts'\nexport const t = fake\n",
    })
    expect(found).toEqual([
      'test-helpers-stay-in-tests: services/api/src/services/assets.ts → services/api/src/testing/fake.ts',
    ])
  })
})
