import { describe, expect, it } from 'vitest'
import { checkWebhookTarget, type Resolve, UnsafeWebhookTargetError } from './target.ts'

const publicResolve: Resolve = async () => [{ address: '93.184.215.14', family: 4 }]
const strict = { allowLoopback: false, resolve: publicResolve }
const local = { allowLoopback: true, resolve: publicResolve }

/** A resolver that answers `addresses` for every name. */
const resolvesTo =
  (...addresses: string[]): Resolve =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))

async function refusal(url: string, policy = strict) {
  try {
    await checkWebhookTarget(url, policy)
  } catch (err) {
    expect(err).toBeInstanceOf(UnsafeWebhookTargetError)
    return err as UnsafeWebhookTargetError
  }
  throw new Error(`${url} was not refused`)
}

describe('webhook targets: every address class is refused, as a literal and behind a name', () => {
  const table: [string, string][] = [
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.254', 'shared (CGNAT)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    // IPv4-mapped IPv6 of the classes above are their IPv4 address.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    // NAT64 and 6to4 addresses lead to the IPv4 address they embed.
    ['64:ff9b::a00:1', 'private'],
    ['2002:7f00:1::', 'loopback'],
  ]

  it.each(table)('%s (literal) is %s', async (address, blocked) => {
    const host = address.includes(':') ? `[${address}]` : address
    const err = await refusal(`https://${host}/hook`)
    expect(err.blocked).toBe(blocked)
  })

  it.each(table)('a name resolving to %s is refused as %s', async (address, blocked) => {
    const err = await refusal('https://hooks.example.com/hook', {
      allowLoopback: false,
      resolve: resolvesTo(address),
    })
    expect(err.blocked).toBe(blocked)
    expect(err.message).toContain(`hooks.example.com resolves to ${address}`)
  })

  it('refuses a name when any one of its addresses is private', async () => {
    const err = await refusal('https://hooks.example.com/', {
      allowLoopback: false,
      resolve: resolvesTo('93.184.215.14', '2606:2800::1', '10.9.8.7'),
    })
    expect(err.blocked).toBe('private')
  })

  it('refuses the spellings of loopback the URL parser normalises', async () => {
    for (const url of [
      'https://0x7f000001/',
      'https://2130706433/',
      'https://017700000001/',
      'https://127.1/',
      'https://[::ffff:7f00:1]/',
    ]) {
      expect((await refusal(url)).blocked).toBe('loopback')
    }
  })

  it('accepts a public https target and answers the address to connect to', async () => {
    const target = await checkWebhookTarget('https://hooks.example.com/x', strict)
    expect(target.address).toEqual({ address: '93.184.215.14', family: 4 })
    expect(target.url.hostname).toBe('hooks.example.com')
  })

  it('wants https; http only to loopback and only with the flag', async () => {
    expect((await refusal('http://hooks.example.com/')).message).toMatch(/must be https/)
    expect((await refusal('http://hooks.example.com/', local)).message).toMatch(/loopback/)
    expect((await refusal('http://127.0.0.1:9/')).message).toMatch(/must be https/)
    const loopback = await checkWebhookTarget('http://127.0.0.1:9/hook', local)
    expect(loopback.address.address).toBe('127.0.0.1')
    const named = await checkWebhookTarget('http://localhost:9/', {
      allowLoopback: true,
      resolve: resolvesTo('127.0.0.1', '::1'),
    })
    expect(named.address.address).toBe('127.0.0.1')
    // The flag allows loopback, nothing else private.
    expect((await refusal('https://10.0.0.1/', local)).blocked).toBe('private')
    expect((await refusal('https://169.254.169.254/', local)).blocked).toBe('metadata')
  })

  it('refuses other schemes, credentials, garbage and names that do not resolve', async () => {
    expect((await refusal('ftp://hooks.example.com/')).message).toMatch(/https/)
    expect((await refusal('file:///etc/passwd')).message).toMatch(/https/)
    expect((await refusal('https://user:pass@hooks.example.com/')).message).toMatch(/credentials/)
    expect((await refusal('not a url')).message).toMatch(/absolute URL/)
    const nowhere = await refusal('https://nowhere.example/', {
      allowLoopback: false,
      resolve: async () => {
        throw new Error('ENOTFOUND')
      },
    })
    expect(nowhere.message).toMatch(/does not resolve/)
  })
})
