import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readOrCreateSecret, writeSecretFile } from './secret-file.ts'

const dirs: string[] = []
const dir = () => {
  const created = mkdtempSync(path.join(tmpdir(), 'imagegate-secret-'))
  dirs.push(created)
  return created
}
afterEach(() => {
  for (const created of dirs.splice(0)) {
    rmSync(created, { recursive: true, force: true })
  }
})

const mode = (file: string) => statSync(file).mode & 0o777

describe('writeSecretFile', () => {
  it('writes the text with mode 0600 and replaces an existing file', () => {
    const file = path.join(dir(), 'bootstrap-key')
    writeFileSync(file, 'old', { mode: 0o644 })
    writeSecretFile(file, 'igk_new\n')
    expect(readFileSync(file, 'utf8')).toBe('igk_new\n')
    expect(mode(file)).toBe(0o600)
  })
})

describe('readOrCreateSecret', () => {
  it('creates a 32-byte secret once (mode 0600) and reads the same one afterwards', () => {
    const file = path.join(dir(), 'url-signing-key')
    const first = readOrCreateSecret(file)
    expect(first).toHaveLength(32)
    expect(mode(file)).toBe(0o600)
    expect(readOrCreateSecret(file).equals(first)).toBe(true)
  })

  it('refuses a file that does not hold a secret rather than signing with garbage', () => {
    const file = path.join(dir(), 'url-signing-key')
    writeFileSync(file, 'hello')
    expect(() => readOrCreateSecret(file)).toThrow(/hex secret/)
  })
})
