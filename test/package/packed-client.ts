import { execFile } from 'node:child_process'
import { cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { repoRoot } from '../support/processes.ts'

const run = promisify(execFile)

export const clientDir = path.join(repoRoot, 'packages/client')

type Manifest = { name: string; version: string; dependencies?: Record<string, string> }

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest
}

/**
 * The environment of someone outside this repository: no npm or pnpm settings inherited from
 * the script runner, a home without an .npmrc, and a private npm cache.
 */
export function outsiderEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|NODE_OPTIONS$|NODE_PATH$)/i.test(name)) {
      env[name] = value
    }
  }
  return { ...env, HOME: home, npm_config_cache: path.join(home, 'npm-cache') }
}

/** Where Node would find `name` from `fromDir`: the first node_modules/<name> walking up. */
function installedDir(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name)
    if (existsSync(path.join(candidate, 'package.json'))) {
      return realpathSync(candidate)
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`${name} is not installed where ${fromDir} can find it`)
    }
  }
}

/** The client's run-time dependencies and theirs, as the workspace has them installed. */
function runtimeDependencyDirs(): Map<string, string> {
  const found = new Map<string, string>()
  const visit = (dir: string) => {
    for (const name of Object.keys(readManifest(dir).dependencies ?? {})) {
      if (!found.has(name)) {
        const dependencyDir = installedDir(name, dir)
        found.set(name, dependencyDir)
        visit(dependencyDir)
      }
    }
  }
  visit(clientDir)
  return found
}

export type PackedClient = { tarball: string; dependencyTarballs: Map<string, string> }

/**
 * `npm pack` of packages/client (its prepack builds it), and of each run-time dependency from the
 * workspace's store, so that installing needs no registry.
 */
export async function packClient(into: string, env: NodeJS.ProcessEnv): Promise<PackedClient> {
  const packed = async (dir: string, extra: string[]) => {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', into, ...extra], {
      cwd: dir,
      env,
    })
    // The prepack script's output comes before npm's JSON report.
    const report = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { filename: string }[]
    return path.join(into, report[0]?.filename ?? '')
  }
  const tarball = await packed(clientDir, [])
  const dependencyTarballs = new Map<string, string>()
  for (const [name, dir] of runtimeDependencyDirs()) {
    // pnpm's store hard-links identical files; npm packs the second link of a file as an empty
    // entry. A plain copy has no links.
    const copy = path.join(into, 'unlinked', name)
    cpSync(dir, copy, { recursive: true })
    dependencyTarballs.set(name, await packed(copy, ['--ignore-scripts']))
  }
  return { tarball, dependencyTarballs }
}

/**
 * An empty npm project in `projectDir` with the packed client installed by npm, offline. The
 * dependencies are pinned to their tarballs through `overrides`, not listed by the project, so
 * they arrive only because the client's package.json asks for them.
 */
export async function installInEmptyProject(
  projectDir: string,
  packed: PackedClient,
  env: NodeJS.ProcessEnv,
) {
  const overrides = Object.fromEntries(
    [...packed.dependencyTarballs].map(([name, tarball]) => [name, `file:${tarball}`]),
  )
  writeFileSync(
    path.join(projectDir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', overrides }, null, 2),
  )
  await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', packed.tarball],
    { cwd: projectDir, env },
  )
}
