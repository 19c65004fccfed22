import { describe, expect, it } from 'vitest'
import { replaceBetweenMarkers } from './publish.ts'

describe('replaceBetweenMarkers', () => {
  const document = [
    'intro',
    '<!-- bench:results:start -->',
    'old',
    '<!-- bench:results:end -->',
    'outro',
  ].join('\n')

  it('replaces only what stands between the markers', () => {
    expect(replaceBetweenMarkers(document, 'results', '| a |\n')).toBe(
      [
        'intro',
        '<!-- bench:results:start -->',
        '| a |',
        '<!-- bench:results:end -->',
        'outro',
      ].join('\n'),
    )
  })

  it('refuses a document without the markers', () => {
    expect(() => replaceBetweenMarkers('no markers', 'results', 'x')).toThrow(/missing/)
    expect(() => replaceBetweenMarkers(document, 'summary', 'x')).toThrow(/missing/)
  })
})
