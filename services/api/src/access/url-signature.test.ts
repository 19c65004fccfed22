import { describe, expect, it } from 'vitest'
import { parseSignedUrlParams, signAssetUrl, verifyAssetUrl } from './url-signature.ts'

const secret = Buffer.alloc(32, 7)
const now = 2_000_000_000

describe('signed asset URLs', () => {
  const params = signAssetUrl(secret, 'ws_a', 'ast_1', now + 60)

  it('verifies its own signature until it expires', () => {
    expect(params.signature).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(verifyAssetUrl(secret, 'ws_a', 'ast_1', params, now)).toBe(true)
    expect(verifyAssetUrl(secret, 'ws_a', 'ast_1', params, now + 59)).toBe(true)
    expect(verifyAssetUrl(secret, 'ws_a', 'ast_1', params, now + 60)).toBe(false)
  })

  it.each([
    ['another asset', 'ws_a', 'ast_2', params],
    ['another workspace', 'ws_b', 'ast_1', params],
    ['a later expiry', 'ws_a', 'ast_1', { ...params, expires: params.expires + 1 }],
    [
      'a changed character',
      'ws_a',
      'ast_1',
      { ...params, signature: change(params.signature, 10) },
    ],
    [
      'another spelling of the same bytes',
      'ws_a',
      'ast_1',
      { ...params, signature: respell(params) },
    ],
  ])('refuses %s', (_, workspaceId, assetId, given) => {
    expect(verifyAssetUrl(secret, workspaceId, assetId, given, now)).toBe(false)
  })

  it('refuses a signature made with another secret', () => {
    const forged = signAssetUrl(Buffer.alloc(32, 8), 'ws_a', 'ast_1', now + 60)
    expect(verifyAssetUrl(secret, 'ws_a', 'ast_1', forged, now)).toBe(false)
  })

  it.each([
    [undefined, params.signature],
    [String(params.expires), undefined],
    ['', params.signature],
    ['-5', params.signature],
    ['1e9', params.signature],
    ['0123', params.signature],
    [String(params.expires), `${params.signature}=`],
    [String(params.expires), params.signature.slice(1)],
    [String(params.expires), '+'.repeat(43)],
  ])('parses only well-formed parameters: expires=%j signature=%j', (expires, signature) => {
    expect(parseSignedUrlParams(expires, signature)).toBeUndefined()
  })

  it('parses the wire form back', () => {
    expect(parseSignedUrlParams(String(params.expires), params.signature)).toEqual(params)
  })
})

function change(signature: string, at: number): string {
  const replacement = signature[at] === 'A' ? 'B' : 'A'
  return signature.slice(0, at) + replacement + signature.slice(at + 1)
}

/** The last base64url digit carries two spare bits: flipping them keeps the decoded bytes. */
function respell(params: { signature: string }): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(params.signature.at(-1) ?? 'A')
  const other = alphabet[last ^ 1] as string
  expect(Buffer.from(params.signature.slice(0, -1) + other, 'base64url')).toEqual(
    Buffer.from(params.signature, 'base64url'),
  )
  return params.signature.slice(0, -1) + other
}
