import { isIPv4, isIPv6 } from 'node:net'

/**
 * The bucket a client address is limited under. IPv4 addresses (including IPv4-mapped IPv6)
 * stand for themselves; IPv6 addresses count per /64, since one host is routinely handed a
 * whole /64 and could otherwise rotate through 2^64 addresses to dodge the limit. Anything
 * unparseable shares one bucket, so garbage cannot mint fresh budgets either.
 */
export function clientIpBucket(address: string | undefined): string {
  const withoutZone = (address ?? '').trim().replace(/%.*$/, '')
  if (isIPv4(withoutZone)) {
    return withoutZone
  }
  if (!isIPv6(withoutZone)) {
    return 'unknown'
  }
  const groups = expandIPv6(withoutZone)
  const mapped = groups.slice(0, 6).join(':') === '0:0:0:0:0:ffff'
  if (mapped) {
    const [high = 0, low = 0] = groups.slice(6).map((group) => Number.parseInt(group, 16))
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
  }
  return `${groups.slice(0, 4).join(':')}::/64`
}

/** Eight lower-case groups without leading zeros, from any valid IPv6 text form. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase()
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number)
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const missing = tail === undefined ? 0 : 8 - left.length - right.length
  return [...left, ...new Array<string>(missing).fill('0'), ...right].map((group) =>
    Number.parseInt(group, 16).toString(16),
  )
}
