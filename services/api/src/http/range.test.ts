import { describe, expect, it } from 'vitest'
import { matchesEtag } from './range.ts'

const etag = `"${'ab'.repeat(32)}"`

describe('matchesEtag', () => {
  it.each([
    ['the tag itself', etag, true],
    ['the weak tag', `W/${etag}`, true],
    ['a list naming it, spaces around', ` "0000" ,W/"1111",  ${etag} `, true],
    ['*', '*', true],
    ['W/*', 'W/*', true],
    ['another tag', '"0000"', false],
    ['the tag unquoted', etag.slice(1, -1), false],
    ['a space between W/ and the tag', `W/ ${etag}`, false],
    ['a lowercase weak prefix', `w/${etag}`, false],
    ['an empty header', '', false],
    ['no header', undefined, false],
  ])('%s', (_label, header, expected) => {
    expect(matchesEtag(header, etag)).toBe(expected)
  })
})
