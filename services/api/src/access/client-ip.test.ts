import { describe, expect, it } from 'vitest'
import { clientIpBucket } from './client-ip.ts'

describe('clientIpBucket', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::ffff:cb00:7107', '203.0.113.7'],
    ['0:0:0:0:0:FFFF:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    [undefined, 'unknown'],
    ['', 'unknown'],
    ['not an address', 'unknown'],
    ['999.1.1.1', 'unknown'],
  ])('%j → %s', (address, bucket) => {
    expect(clientIpBucket(address)).toBe(bucket)
  })

  it('puts every address of one /64 in the same bucket', () => {
    const buckets = new Set(
      Array.from({ length: 50 }, (_, index) =>
        clientIpBucket(`2001:db8:aa:bb:${index.toString(16)}::${(index * 7).toString(16)}`),
      ),
    )
    expect([...buckets]).toEqual(['2001:db8:aa:bb::/64'])
  })
})
