import {
  type IpAddress,
  type IpRange,
  parseIpAddress,
  parseIpRange,
  rangeContains,
} from '../access/ip-ranges.ts'

/** Why an address is no place to send a webhook: each class is refused on its own line. */
export type BlockedClass =
  | 'metadata'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (CGNAT)'
  | 'multicast'
  | 'unspecified'
  | 'reserved'

/**
 * Address blocks a webhook may never reach, most specific first (the cloud metadata addresses
 * sit inside link-local and unique-local blocks, and are named for what they are). IPv4-mapped
 * IPv6 addresses (`::ffff:10.0.0.1`) are parsed as their IPv4 address, so the IPv4 rows cover
 * them; NAT64 and 6to4 addresses are checked by the IPv4 address they embed.
 */
const BLOCKED: readonly [string, BlockedClass][] = [
  ['169.254.169.254/32', 'metadata'],
  ['fd00:ec2::254/128', 'metadata'],
  ['127.0.0.0/8', 'loopback'],
  ['::1/128', 'loopback'],
  ['0.0.0.0/8', 'unspecified'],
  ['::/128', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['fc00::/7', 'private'],
  ['169.254.0.0/16', 'link-local'],
  ['fe80::/10', 'link-local'],
  ['100.64.0.0/10', 'shared (CGNAT)'],
  ['224.0.0.0/4', 'multicast'],
  ['ff00::/8', 'multicast'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['240.0.0.0/4', 'reserved'],
  // IPv4-compatible (deprecated) addresses, discard-only, documentation, Teredo and ORCHID.
  ['::/96', 'reserved'],
  ['100::/64', 'reserved'],
  ['2001:db8::/32', 'reserved'],
  ['2001::/32', 'reserved'],
  ['2001:10::/28', 'reserved'],
  ['2001:20::/28', 'reserved'],
]

const blockedRanges: readonly [IpRange, BlockedClass][] = BLOCKED.map(([text, kind]) => {
  const range = parseIpRange(text)
  if ('problem' in range) {
    throw new Error(range.problem)
  }
  return [range, kind]
})

const NAT64 = parseIpRange('64:ff9b::/96') as IpRange
const SIX_TO_FOUR = parseIpRange('2002::/16') as IpRange

/** The IPv4 address a NAT64 or 6to4 address routes to, which is where the packets end up. */
function embeddedIPv4(address: IpAddress): IpAddress | undefined {
  if (address.version !== 6) {
    return undefined
  }
  const groups = address.groups
  if (rangeContains(NAT64, address)) {
    return { version: 4, groups: groups.slice(6) }
  }
  if (rangeContains(SIX_TO_FOUR, address)) {
    return { version: 4, groups: groups.slice(1, 3) }
  }
  return undefined
}

function ipv4Text(groups: readonly number[]): string {
  const [high = 0, low = 0] = groups
  return [high >> 8, high & 255, low >> 8, low & 255].join('.')
}

export type AddressPolicy = {
  /** Allows loopback addresses (IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK: development and tests). */
  allowLoopback: boolean
}

/** The class that forbids sending to `text`, or undefined when it is a public unicast address. */
export function blockedClassOf(text: string, policy: AddressPolicy): BlockedClass | undefined {
  const address = parseIpAddress(text)
  if (!address) {
    return 'unspecified'
  }
  const embedded = embeddedIPv4(address)
  if (embedded) {
    return blockedClassOf(ipv4Text(embedded.groups), policy)
  }
  for (const [range, kind] of blockedRanges) {
    if (rangeContains(range, address)) {
      return kind === 'loopback' && policy.allowLoopback ? undefined : kind
    }
  }
  return undefined
}

/** Whether `text` is a loopback address (plain http is allowed to those alone, behind the flag). */
export function isLoopbackAddress(text: string): boolean {
  return blockedClassOf(text, { allowLoopback: false }) === 'loopback'
}
