import { describe, expect, it } from 'vitest'
import { sumTokenUsage } from './token-usage.ts'

describe('sumTokenUsage', () => {
  it('adds every count that every call reported', () => {
    expect(
      sumTokenUsage([
        {
          inputTokens: 14,
          inputTextTokens: 14,
          inputImageTokens: 0,
          outputTokens: 1056,
          totalTokens: 1070,
        },
        {
          inputTokens: 209,
          inputTextTokens: 15,
          inputImageTokens: 194,
          outputTokens: 1056,
          totalTokens: 1265,
        },
      ]),
    ).toEqual({
      inputTokens: 223,
      inputTextTokens: 29,
      inputImageTokens: 194,
      outputTokens: 2112,
      totalTokens: 2335,
    })
  })

  it('leaves out a count that some call did not report, rather than understate it', () => {
    expect(
      sumTokenUsage([
        { inputTokens: 14, inputTextTokens: 14, inputImageTokens: 0, totalTokens: 1070 },
        { inputTokens: 14, totalTokens: 1070 },
      ]),
    ).toEqual({ inputTokens: 28, totalTokens: 2140 })
    expect(sumTokenUsage([{ inputTokens: 14, totalTokens: 1070 }, undefined])).toBeUndefined()
    expect(sumTokenUsage([{ inputTokens: 3 }, { outputTokens: 4 }])).toBeUndefined()
  })

  it('has no usage when no call reported any, and keeps zeros as counts', () => {
    expect(sumTokenUsage([])).toBeUndefined()
    expect(sumTokenUsage([undefined, undefined])).toBeUndefined()
    expect(sumTokenUsage([{ inputImageTokens: 0 }, { inputImageTokens: 0 }])).toEqual({
      inputImageTokens: 0,
    })
  })
})
