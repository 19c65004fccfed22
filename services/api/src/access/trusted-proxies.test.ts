import { describe, expect, it } from 'vitest'
import { clientAddressOf, parseTrustedProxies } from './trusted-proxies.ts'

function resolver(list: string) {
  const { ranges, problems } = parseTrustedProxies(list)
  expect(problems).toEqual([])
  return clientAddressOf(ranges)
}

describe('parseTrustedProxies', () => {
  it('reads every entry, skips empty ones, reports each bad one', () => {
    const { ranges, problems } = parseTrustedProxies(' 10.0.0.0/8 ,, ::1, nope,10.0.0.1/8,')
    expect(ranges).toHaveLength(2)
    expect(problems).toEqual([
      "'nope' is not an IPv4 or IPv6 address or CIDR block",
      "'10.0.0.1/8' has bits set after its /8 prefix (a typo for a single address?)",
    ])
  })
})

describe('clientAddressOf', () => {
  it('without trusted proxies: the peer, whatever X-Forwarded-For says', () => {
    const of = clientAddressOf([])
    expect(of('203.0.113.7', '198.51.100.1')).toBe('203.0.113.7')
    expect(of(undefined, '198.51.100.1')).toBeUndefined()
  })

  it('ignores X-Forwarded-For from a peer that is not trusted (spoofing)', () => {
    const of = resolver('10.0.0.0/8')
    expect(of('203.0.113.7', '198.51.100.1')).toBe('203.0.113.7')
    expect(of('203.0.113.7', '10.0.0.1, 198.51.100.1')).toBe('203.0.113.7')
    expect(of(undefined, '198.51.100.1')).toBeUndefined()
  })

  it('through one trusted proxy: the right-most entry, not what the client wrote left of it', () => {
    const of = resolver('127.0.0.1')
    expect(of('127.0.0.1', '198.51.100.1')).toBe('198.51.100.1')
    // The client sent "X-Forwarded-For: 192.0.2.99"; the proxy appended the address it saw.
    expect(of('127.0.0.1', '192.0.2.99, 198.51.100.1')).toBe('198.51.100.1')
    expect(of('127.0.0.1', '192.0.2.99,198.51.100.1')).toBe('198.51.100.1')
  })

  it('through several proxies: the right-most entry that is not a trusted proxy', () => {
    const of = resolver('10.0.0.0/8, 192.168.0.0/16')
    expect(of('10.0.0.5', '192.0.2.99, 198.51.100.1, 192.168.1.1, 10.1.1.1')).toBe('198.51.100.1')
    // Every hop trusted: the left-most is the client.
    expect(of('10.0.0.5', '192.168.1.1, 10.1.1.1')).toBe('192.168.1.1')
  })

  it('matches IPv6 CIDRs, IPv4-mapped peers and entries, and bracketed or ported entries', () => {
    const of = resolver('2001:db8:aa::/48, 10.0.0.0/8')
    expect(of('2001:db8:aa:1::9', '2001:db8:ff::1, 2001:db8:aa:2::1')).toBe('2001:db8:ff::1')
    expect(of('2001:db8:ab::9', '2001:db8:ff::1')).toBe('2001:db8:ab::9')
    // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
    expect(of('::ffff:10.0.0.5', '198.51.100.1')).toBe('198.51.100.1')
    expect(of('10.0.0.5', '198.51.100.1, ::ffff:10.9.9.9')).toBe('198.51.100.1')
    expect(of('10.0.0.5', '198.51.100.1:4711')).toBe('198.51.100.1')
    expect(of('10.0.0.5', '[2001:db8:ff::1]:4711, 10.2.2.2:80')).toBe('2001:db8:ff::1')
    expect(of('10.0.0.5', '[2001:db8:ff::1]')).toBe('2001:db8:ff::1')
  })

  it('stops at garbage: the trusted hop that passed it on is the client', () => {
    const of = resolver('10.0.0.0/8')
    expect(of('10.0.0.5', 'unknown')).toBe('10.0.0.5')
    expect(of('10.0.0.5', '198.51.100.1, unknown, 10.1.1.1')).toBe('10.1.1.1')
    expect(of('10.0.0.5', '198.51.100.1, ')).toBe('10.0.0.5')
    expect(of('10.0.0.5', '')).toBe('10.0.0.5')
    expect(of('10.0.0.5', '198.51.100.1:http')).toBe('10.0.0.5')
    expect(of('10.0.0.5', '[2001:db8::1]x')).toBe('10.0.0.5')
    expect(of('10.0.0.5', '2001:db8::1%eth0, 999.1.1.1')).toBe('10.0.0.5')
  })

  it('without the header, a trusted peer is the client itself', () => {
    const of = resolver('10.0.0.0/8')
    expect(of('10.0.0.5', undefined)).toBe('10.0.0.5')
  })

  it('reads a long header from the right only as far as the first untrusted hop', () => {
    const of = resolver('10.0.0.0/8')
    const forged = Array.from({ length: 2000 }, () => 'garbage').join(', ')
    expect(of('10.0.0.5', `${forged}, 198.51.100.1`)).toBe('198.51.100.1')
  })
})
