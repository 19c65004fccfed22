import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** Writes a catalog for IMAGEGATE_MODELS_FILE to a temp dir; `remove()` deletes it. */
export function writeCatalogFile(models: unknown[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-models-'))
  const file = path.join(dir, 'models.json')
  writeFileSync(file, JSON.stringify({ models }))
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
