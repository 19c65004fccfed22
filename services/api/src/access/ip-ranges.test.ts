import { describe, expect, it } from 'vitest'
import { type IpRange, parseIpAddress, parseIpRange, rangeContains } from './ip-ranges.ts'

function range(text: string): IpRange {
  const parsed = parseIpRange(text)
  if ('problem' in parsed) {
    throw new Error(parsed.problem)
  }
  return parsed
}

const contains = (cidr: string, address: string) => {
  const parsed = parseIpAddress(address)
  if (parsed === undefined) {
    throw new Error(`${address} is no address`)
  }
  return rangeContains(range(cidr), parsed)
}

describe('parseIpAddress', () => {
  it.each([
    ['192.0.2.1', { version: 4, groups: [0xc000, 0x0201] }],
    ['::ffff:192.0.2.1', { version: 4, groups: [0xc000, 0x0201] }],
    ['::FFFF:c000:201', { version: 4, groups: [0xc000, 0x0201] }],
    ['2001:db8::1', { version: 6, groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1] }],
    ['fe80::1%eth0', { version: 6, groups: [0xfe80, 0, 0, 0, 0, 0, 0, 1] }],
    ['64:ff9b::192.0.2.1', { version: 6, groups: [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x201] }],
  ])('%s', (text, address) => {
    expect(parseIpAddress(text)).toEqual(address)
  })

  it.each(['', 'unknown', '192.0.2.256', '010.0.0.1', '192.0.2.1:80', '[::1]', '1:2:3'])(
    'refuses %j',
    (text) => {
      expect(parseIpAddress(text)).toBeUndefined()
    },
  )
})

describe('parseIpRange', () => {
  it('reads a bare address as a whole-address range', () => {
    expect(range('192.0.2.1')).toMatchObject({ version: 4, prefix: 32 })
    expect(range('::1')).toMatchObject({ version: 6, prefix: 128 })
  })

  it.each([
    ['10.0.0.1/8', /bits set after its \/8 prefix/],
    ['2001:db8::1/32', /bits set after its \/32 prefix/],
    ['10.0.0.0/33', /from 0 to 32/],
    ['::/129', /from 0 to 128/],
    ['10.0.0.0/', /from 0 to 32/],
    ['10.0.0.0/8/8', /not an IPv4 or IPv6/],
    ['10.0.0.0/-1', /from 0 to 32/],
    ['fe80::1%eth0', /not an IPv4 or IPv6/],
    ['example.com', /not an IPv4 or IPv6/],
  ])('refuses %s', (text, problem) => {
    const parsed = parseIpRange(text)
    expect('problem' in parsed && parsed.problem).toMatch(problem)
  })
})

describe('rangeContains', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.168.4.0/22', '192.168.7.255', true],
    ['192.168.4.0/22', '192.168.8.0', false],
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['0.0.0.0/0', '203.0.113.7', true],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8:0:0:8000::/65', '2001:db8::8000:0:0:1', true],
    ['2001:db8:0:0:8000::/65', '2001:db8::7fff:0:0:1', false],
    ['::1', '::1', true],
    // An IPv4 peer on a dual-stack socket, against either spelling of the range.
    ['127.0.0.1', '::ffff:127.0.0.1', true],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['::ffff:10.0.0.0/104', '10.1.2.3', true],
    ['::ffff:10.0.0.0/104', '11.1.2.3', false],
    ['::ffff:127.0.0.1', '127.0.0.1', true],
    ['::/0', '198.51.100.1', true],
    // IPv4 ranges never hold IPv6 addresses.
    ['0.0.0.0/0', '2001:db8::1', false],
    ['2001:db8::/32', '10.0.0.1', false],
  ])('%s holds %s: %s', (cidr, address, held) => {
    expect(contains(cidr, address)).toBe(held)
  })
})
