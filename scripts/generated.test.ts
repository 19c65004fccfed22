import { describe, expect, it } from 'vitest'
import { clientManifestFor } from './generated.ts'

const spec = (version: string) => JSON.stringify({ openapi: '3.1.0', info: { version } })
const manifest = `{
  "name": "@imagegate/client",
  "version": "0.1.0",
  "dependencies": {
    "openapi-fetch": "~0.17.0",
    "version": "not this one"
  }
}
`

describe('clientManifestFor', () => {
  it("sets the package's version to the contract's info.version and changes nothing else", () => {
    const next = clientManifestFor(spec('0.2.0'), manifest)
    expect(JSON.parse(next)).toEqual({
      ...JSON.parse(manifest),
      version: '0.2.0',
    })
    expect(next.replace('0.2.0', '0.1.0')).toBe(manifest)
  })

  it('is the identity when the versions already agree', () => {
    expect(clientManifestFor(spec('0.1.0'), manifest)).toBe(manifest)
  })

  it('refuses a manifest without a top-level version', () => {
    expect(() => clientManifestFor(spec('0.1.0'), '{\n  "name": "x"\n}\n')).toThrow(/version/)
  })
})
