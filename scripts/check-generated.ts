/**
 * Drift check: regenerates the spec, the client types and the migrations in memory or in a scratch
 * folder and fails if any differs from what is committed, or if the client package's version is
 * not the contract's `info.version`. Run `pnpm gen` to fix.
 */
import { readFileSync } from 'node:fs'
import {
  clientManifestFor,
  clientManifestPath,
  clientTypesPath,
  generateClientTypes,
  generateSpec,
  migrationDrift,
  specPath,
} from './generated.ts'

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

// Migrations first: building the app for the spec applies them, and fails if they are stale.
const stale: string[] = migrationDrift()
if (stale.length > 0) {
  console.error(`Generated files are stale (run \`pnpm gen\` and commit):\n  ${stale.join('\n  ')}`)
  process.exit(1)
}
const spec = await generateSpec()
if (read(specPath) !== spec) {
  stale.push('openapi/openapi.json')
}
if (read(clientTypesPath) !== (await generateClientTypes(spec))) {
  stale.push('packages/client/src/schema.d.ts')
}
const manifest = read(clientManifestPath)
if (manifest !== clientManifestFor(spec, manifest)) {
  stale.push('packages/client/package.json (its version must be the API version, info.version)')
}

if (stale.length > 0) {
  console.error(`Generated files are stale (run \`pnpm gen\` and commit):\n  ${stale.join('\n  ')}`)
  process.exit(1)
}
console.log('generated files are up to date: spec, client types and version, migrations')
