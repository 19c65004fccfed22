/** Regenerates every committed artefact: the spec, the client types and the migrations. */
import { writeFileSync } from 'node:fs'
import {
  clientTypesPath,
  generateClientTypes,
  generateSpec,
  migrationsDir,
  runDrizzleGenerate,
  specPath,
} from './generated.ts'

// Migrations first: building the app for the spec applies them.
runDrizzleGenerate(migrationsDir)
const spec = generateSpec()
writeFileSync(specPath, spec)
writeFileSync(clientTypesPath, await generateClientTypes(spec))
console.log('generated openapi/openapi.json, packages/client/src/schema.d.ts, services/api/drizzle')
