import { describe, expect, it } from 'vitest'
import { type Row, summaryTable } from './report.ts'

const row = (group: string, metric: string, pass: boolean | undefined, value = 1): Row => ({
  group,
  metric,
  value,
  unit: 'ms',
  baseline: { value: 0.5, label: 'direct' },
  target: '≤ 2 ms',
  pass,
})

describe('the README summary', () => {
  it('has one line per suite: targets met, and each miss with its figures', () => {
    const table = summaryTable([
      row('render', 'p50', true),
      row('assets', 'upload', true),
      row('assets', 'GET | 304', false, 3),
      row('assets', 'floor', undefined),
      row('stream', 'partial', false, 7),
    ])
    expect(table.split('\n')).toEqual([
      '| suite | targets met | missed (figure, same-run comparison, target) |',
      '|---|---|---|',
      '| render | 1 of 1 | - |',
      '| assets | 1 of 2 | GET \\| 304: 3 ms, vs 0.5 ms (direct); target ≤ 2 ms |',
      '| stream | 0 of 1 | partial: 7 ms, vs 0.5 ms (direct); target ≤ 2 ms |',
    ])
  })
})
