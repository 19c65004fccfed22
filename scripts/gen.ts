/**
 * Regenerates every committed artefact: the spec, the client types and version, and the migrations.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import {
  clientManifestFor,
  clientManifestPath,
  clientTypesPath,
  generateClientTypes,
  generateSpec,
  runDrizzleGenerate,
  specPath,
} from './generated.ts'

// Migrations first: building the app for the spec applies them.
runDrizzleGenerate()
const spec = await generateSpec()
writeFileSync(specPath, spec)
writeFileSync(clientTypesPath, await generateClientTypes(spec))
writeFileSync(clientManifestPath, clientManifestFor(spec, readFileSync(clientManifestPath, 'utf8')))
console.log(
  'generated openapi/openapi.json, packages/client/src/schema.d.ts (and the package version), services/api/drizzle, services/api/drizzle-pg',
)
