import { isIPv4, isIPv6 } from 'node:net'

/**
 * An address as 16-bit groups: two for IPv4, eight for IPv6. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`) is its IPv4 address, because a dual-stack socket reports IPv4 peers that
 * way and an operator writes them the IPv4 way.
 */
export type IpAddress = { version: 4 | 6; groups: readonly number[] }

/** A CIDR block: the addresses whose first `prefix` bits are those of `groups`. */
export type IpRange = IpAddress & { prefix: number }

/** The address in `text` (a zone id such as `%eth0` ignored), or undefined if it is none. */
export function parseIpAddress(text: string): IpAddress | undefined {
  const percent = text.indexOf('%')
  const address = percent === -1 ? text : text.slice(0, percent)
  if (isIPv4(address)) {
    return { version: 4, groups: ipv4Groups(address) }
  }
  if (!isIPv6(address)) {
    return undefined
  }
  const groups = ipv6Groups(address)
  if (isMappedIPv4(groups)) {
    return { version: 4, groups: groups.slice(6) }
  }
  return { version: 6, groups }
}

/**
 * An address (a whole-address range) or a CIDR block, or why it is neither. Bits set past the
 * prefix are refused rather than dropped: `10.0.0.1/8` trusts sixteen million addresses, which
 * is seldom what whoever wrote it meant.
 */
export function parseIpRange(text: string): IpRange | { problem: string } {
  const [written = '', prefixText, extra] = text.split('/')
  const address = written.includes('%') ? undefined : parseIpAddress(written)
  if (address === undefined || extra !== undefined) {
    return { problem: `'${text}' is not an IPv4 or IPv6 address or CIDR block` }
  }
  // A mapped address written with an IPv6 prefix keeps IPv6 prefix arithmetic.
  const writtenAsIPv6 = isIPv6(written)
  const bits = writtenAsIPv6 ? 128 : 32
  const groups = writtenAsIPv6 ? ipv6Groups(written) : address.groups
  const version = writtenAsIPv6 ? 6 : 4
  if (prefixText === undefined) {
    return { version, groups, prefix: bits }
  }
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN
  if (!(prefix <= bits)) {
    return { problem: `'${text}': the prefix length must be a number from 0 to ${bits}` }
  }
  const range = { version, groups, prefix } as const
  if (!sameGroups(masked(range.groups, prefix), range.groups)) {
    return {
      problem: `'${text}' has bits set after its /${prefix} prefix (a typo for a single address?)`,
    }
  }
  return range
}

/**
 * Whether the range holds the address. IPv4 addresses are also tested against IPv6 ranges in
 * their mapped form, so `::ffff:10.0.0.0/104` and `::/0` hold IPv4 peers as they read.
 */
export function rangeContains(range: IpRange, address: IpAddress): boolean {
  let groups = address.groups
  if (range.version !== address.version) {
    if (range.version === 4) {
      return false
    }
    groups = [0, 0, 0, 0, 0, 0xffff, ...groups]
  }
  const whole = range.prefix >> 4
  for (let index = 0; index < whole; index += 1) {
    if (groups[index] !== range.groups[index]) {
      return false
    }
  }
  const rest = range.prefix & 15
  if (rest === 0) {
    return true
  }
  const mask = (0xffff << (16 - rest)) & 0xffff
  return ((groups[whole] ?? 0) & mask) === ((range.groups[whole] ?? 0) & mask)
}

function ipv4Groups(address: string): number[] {
  const [a = 0, b = 0, c = 0, d = 0] = address.split('.').map(Number)
  return [(a << 8) | b, (c << 8) | d]
}

/** Eight groups from any valid IPv6 text form (validated by the caller). */
function ipv6Groups(address: string): number[] {
  let text = address
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted?.[1]) {
    const [high = 0, low = 0] = ipv4Groups(dotted[1])
    text = `${text.slice(0, -dotted[1].length)}${high.toString(16)}:${low.toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const missing = tail === undefined ? 0 : 8 - left.length - right.length
  return [...left, ...new Array<string>(missing).fill('0'), ...right].map((group) =>
    Number.parseInt(group, 16),
  )
}

function isMappedIPv4(groups: readonly number[]): boolean {
  return (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  )
}

function masked(groups: readonly number[], prefix: number): number[] {
  return groups.map((group, index) => {
    const bits = Math.min(16, Math.max(0, prefix - index * 16))
    return group & ((0xffff << (16 - bits)) & 0xffff)
  })
}

function sameGroups(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((group, index) => group === b[index])
}
