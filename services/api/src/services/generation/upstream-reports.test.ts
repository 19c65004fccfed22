import { describe, expect, it } from 'vitest'
import { combineUpstreamReports } from './upstream-reports.ts'

const gptImage = {
  usage: {
    inputTokens: 14,
    inputTextTokens: 14,
    inputImageTokens: 0,
    outputTokens: 1056,
    totalTokens: 1070,
  },
  reported: {
    size: '1024x1024',
    quality: 'medium',
    background: 'opaque',
    outputFormat: 'png',
  },
} as const

describe('combineUpstreamReports', () => {
  it('is the one answer when the images came from one call', () => {
    expect(combineUpstreamReports([gptImage])).toEqual(gptImage)
  })

  it('adds the usage of calls an n was split over, and keeps the settings they agree on', () => {
    const second = {
      usage: { ...gptImage.usage, inputTokens: 15, inputTextTokens: 15, totalTokens: 1071 },
      reported: { ...gptImage.reported, quality: 'high' },
    } as const
    expect(combineUpstreamReports([gptImage, second])).toEqual({
      usage: {
        inputTokens: 29,
        inputTextTokens: 29,
        inputImageTokens: 0,
        outputTokens: 2112,
        totalTokens: 2141,
      },
      reported: { size: '1024x1024', background: 'opaque', outputFormat: 'png' },
    })
  })

  it('knows nothing a call left out, and nothing at all from providers that report nothing', () => {
    expect(combineUpstreamReports([gptImage, { reported: { size: '1024x1024' } }])).toEqual({
      reported: { size: '1024x1024' },
    })
    expect(combineUpstreamReports([{}, {}])).toEqual({})
    expect(combineUpstreamReports([])).toEqual({})
  })
})
