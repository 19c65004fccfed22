import {
  type IpAddress,
  type IpRange,
  parseIpAddress,
  parseIpRange,
  rangeContains,
} from './ip-ranges.ts'

/**
 * The client address of a request: its connection's peer address, and its X-Forwarded-For
 * header (all of its lines, joined with commas as Node and fetch join them).
 */
export type ClientAddressOf = (
  peer: string | undefined,
  forwardedFor: string | undefined,
) => string | undefined

/**
 * IMAGEGATE_TRUSTED_PROXIES: comma-separated addresses and CIDR blocks, IPv4 or IPv6. Empty
 * entries (a trailing comma) are ignored; every bad entry is reported.
 */
export function parseTrustedProxies(text: string): { ranges: IpRange[]; problems: string[] } {
  const ranges: IpRange[] = []
  const problems: string[] = []
  for (const entry of text.split(',')) {
    const trimmed = entry.trim()
    if (trimmed === '') {
      continue
    }
    const parsed = parseIpRange(trimmed)
    if ('problem' in parsed) {
      problems.push(parsed.problem)
    } else {
      ranges.push(parsed)
    }
  }
  return { ranges, problems }
}

/**
 * Who the client is. The peer of the connection, unless that peer is a trusted proxy: then
 * X-Forwarded-For is read from the right, where each trusted proxy appended the address it was
 * talking to, and the first entry that is not a trusted proxy is the client. Entries left of it
 * were written by whoever sent the request and may say anything, so they are never read. An
 * entry that is no address (garbage, `unknown`, empty), or a missing header, stops the walk at the
 * trusted hop that passed it on: that hop is as far as anything is known. When every entry is a
 * trusted proxy, the left-most is the client. Without trusted proxies the header is never read.
 */
export function clientAddressOf(trusted: readonly IpRange[]): ClientAddressOf {
  if (trusted.length === 0) {
    return (peer) => peer
  }
  const isTrusted = (address: IpAddress) => trusted.some((range) => rangeContains(range, address))
  return (peer, forwardedFor) => {
    const peerAddress = peer === undefined ? undefined : parseIpAddress(peer)
    if (peerAddress === undefined || !isTrusted(peerAddress) || forwardedFor === undefined) {
      return peer
    }
    let client = peer
    let end = forwardedFor.length
    for (;;) {
      const start = forwardedFor.lastIndexOf(',', end - 1)
      const hop = hopAddress(forwardedFor.slice(start + 1, end))
      const address = hop === undefined ? undefined : parseIpAddress(hop)
      if (address === undefined) {
        return client
      }
      client = hop
      if (!isTrusted(address) || start === -1) {
        return client
      }
      end = start
    }
  }
}

/**
 * The address of one X-Forwarded-For entry, without the port some proxies add
 * (`192.0.2.1:4711`, `[2001:db8::1]:4711`); undefined when it has none.
 */
function hopAddress(entry: string): string | undefined {
  const text = entry.trim()
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    const after = text.slice(close + 1)
    return close !== -1 && (after === '' || /^:\d{1,5}$/.test(after))
      ? text.slice(1, close)
      : undefined
  }
  const colon = text.indexOf(':')
  if (colon !== -1 && colon === text.lastIndexOf(':') && /^:\d{1,5}$/.test(text.slice(colon))) {
    return text.slice(0, colon)
  }
  return text === '' ? undefined : text
}
