import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Signed asset URLs, for places that cannot send an Authorization header (an `<img>` tag, a
 * `response_format=url` answer): `/v1/assets/{id}/content?expires=<unix s>&signature=<mac>`.
 * The MAC is HMAC-SHA256 over the version, the workspace, the asset id and the expiry, as
 * base64url (43 characters). The workspace is part of the MAC but not of the URL: the verifier
 * looks the asset up, so a signature never grants more than that one asset's bytes.
 */
const VERSION = 'v1'
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/
const EXPIRES_PATTERN = /^[1-9][0-9]{0,11}$/

export type SignedUrlParams = { expires: number; signature: string }

function mac(secret: Buffer, workspaceId: string, assetId: string, expires: number): Buffer {
  return createHmac('sha256', secret)
    .update(`${VERSION}\n${workspaceId}\n${assetId}\n${expires}`, 'utf8')
    .digest()
}

export function signAssetUrl(
  secret: Buffer,
  workspaceId: string,
  assetId: string,
  expires: number,
): SignedUrlParams {
  return { expires, signature: mac(secret, workspaceId, assetId, expires).toString('base64url') }
}

/** The query parameters in their wire form, or undefined when they cannot be a signature. */
export function parseSignedUrlParams(
  expires: string | undefined,
  signature: string | undefined,
): SignedUrlParams | undefined {
  if (!expires || !signature || !EXPIRES_PATTERN.test(expires)) {
    return undefined
  }
  if (!SIGNATURE_PATTERN.test(signature)) {
    return undefined
  }
  return { expires: Number(expires), signature }
}

/** Constant time in the signature; `nowSeconds` past `expires` is a failure. */
export function verifyAssetUrl(
  secret: Buffer,
  workspaceId: string,
  assetId: string,
  params: SignedUrlParams,
  nowSeconds: number,
): boolean {
  if (params.expires <= nowSeconds) {
    return false
  }
  // Compared as text: base64url has spare bits in its last character, and a signature must have
  // exactly one spelling.
  const expected = Buffer.from(
    mac(secret, workspaceId, assetId, params.expires).toString('base64url'),
  )
  const given = Buffer.from(params.signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
