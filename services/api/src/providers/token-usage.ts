import type { TokenUsage } from './types.ts'

const COUNTS = [
  'inputTokens',
  'outputTokens',
  'totalTokens',
  'inputTextTokens',
  'inputImageTokens',
  'outputTextTokens',
  'outputImageTokens',
] as const satisfies readonly (keyof TokenUsage)[]

/**
 * The usage of several calls that together made one set of images: each count is the sum over
 * the calls when every call reported it. A count some call left out is left out of the sum too,
 * since adding up the calls that did report it would understate what was used, and an
 * understated token count reads as a true one. No call with usage: no usage.
 */
export function sumTokenUsage(usages: readonly (TokenUsage | undefined)[]): TokenUsage | undefined {
  if (usages.length === 0 || usages.every((usage) => usage === undefined)) {
    return undefined
  }
  const total: TokenUsage = {}
  for (const count of COUNTS) {
    let sum = 0
    let everyCall = true
    for (const usage of usages) {
      const value = usage?.[count]
      if (value === undefined) {
        everyCall = false
        break
      }
      sum += value
    }
    if (everyCall) {
      total[count] = sum
    }
  }
  return Object.keys(total).length > 0 ? total : undefined
}
