import { describe, expect, it } from 'vitest'
import { geminiImageConfig } from './gemini-image-config.ts'

const PRO = 'gemini-3-pro-image-preview'
const FLASH_25 = 'gemini-2.5-flash-image'

describe('geminiImageConfig', () => {
  it.each([
    [PRO, 1024, 1024, { aspectRatio: '1:1', imageSize: '1K' }, 0],
    [PRO, 2048, 2048, { aspectRatio: '1:1', imageSize: '2K' }, 0],
    [PRO, 4096, 2304, { aspectRatio: '16:9', imageSize: '4K' }, 0],
    [PRO, 1920, 1080, { aspectRatio: '16:9', imageSize: '2K' }, 1],
    [PRO, 1536, 1024, { aspectRatio: '3:2', imageSize: '2K' }, 1],
    [PRO, 1024, 1536, { aspectRatio: '2:3', imageSize: '2K' }, 1],
    [PRO, 1376, 768, { aspectRatio: '16:9', imageSize: '1K' }, 2],
    [PRO, 1024, 1792, { aspectRatio: '9:16', imageSize: '2K' }, 2],
    [PRO, 2560, 1080, { aspectRatio: '21:9', imageSize: '2K' }, 2],
    [PRO, 4000, 1000, { aspectRatio: '21:9', imageSize: '4K' }, 2],
    [PRO, 819, 1024, { aspectRatio: '4:5', imageSize: '1K' }, 1],
    [PRO, 256, 256, { aspectRatio: '1:1', imageSize: '1K' }, 1],
    [FLASH_25, 1024, 1024, { aspectRatio: '1:1' }, 0],
    [FLASH_25, 2048, 1152, { aspectRatio: '16:9' }, 1],
  ])('%s %ix%i → %o with %i warnings', (model, width, height, imageConfig, warningCount) => {
    const result = geminiImageConfig(model, { width, height })
    expect(result.imageConfig).toEqual(imageConfig)
    expect(result.warnings).toHaveLength(warningCount)
  })

  it('leaves the size to Gemini when none was asked for', () => {
    expect(geminiImageConfig(PRO, undefined)).toEqual({ imageConfig: undefined, warnings: [] })
  })

  it('names the mapping in its warnings', () => {
    expect(geminiImageConfig(FLASH_25, { width: 1000, height: 700 }).warnings).toEqual([
      'size 1000x700: aspect ratio sent as 3:2, the nearest Gemini supports',
      'size 1000x700: gemini-2.5-flash-image renders at about 1K only; imageSize not sent',
    ])
  })
})
