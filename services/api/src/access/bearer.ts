/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is
 * case-insensitive), or undefined when the header is absent or of another shape. The caller
 * answers every undefined with the same 401 as a wrong key.
 */
export function bearerToken(authorization: string | undefined | null): string | undefined {
  if (!authorization) {
    return undefined
  }
  const match = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([\x21-\x7e]+) *$/.exec(authorization)
  return match?.[1]
}
