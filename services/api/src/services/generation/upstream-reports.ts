import { sumTokenUsage } from '../../providers/token-usage.ts'
import type {
  GenerateImagesResult,
  ReportedImageSettings,
  TokenUsage,
} from '../../providers/types.ts'

export type UpstreamReports = {
  /** The token counts of every call that answered (see sumTokenUsage). */
  usage?: TokenUsage
  /** Each setting the answering calls reported, when they all reported the same value. */
  reported?: ReportedImageSettings
}

const SETTINGS = [
  'size',
  'quality',
  'background',
  'outputFormat',
] as const satisfies readonly (keyof ReportedImageSettings)[]

/**
 * What the provider said about one generation, put together from the calls its images were
 * split over (only the calls that answered: a failed call reports no tokens, even if the
 * provider counted some).
 */
export function combineUpstreamReports(
  answers: readonly Pick<GenerateImagesResult, 'usage' | 'reported'>[],
): UpstreamReports {
  const combined: UpstreamReports = {}
  const usage = sumTokenUsage(answers.map((answer) => answer.usage))
  if (usage) {
    combined.usage = usage
  }
  const reported: Record<string, string> = {}
  for (const setting of SETTINGS) {
    const values = new Set(answers.map((answer) => answer.reported?.[setting]))
    const [value] = values
    // One value from every call: a setting some call left out or reported otherwise is unknown.
    if (values.size === 1 && value !== undefined) {
      reported[setting] = value
    }
  }
  if (Object.keys(reported).length > 0) {
    combined.reported = reported as ReportedImageSettings
  }
  return combined
}
