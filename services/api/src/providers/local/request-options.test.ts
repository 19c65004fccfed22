import { describe, expect, it } from 'vitest'
import type { GenerateImagesRequest } from '../types.ts'
import { planLocalRender, seedFromPrompt } from './request-options.ts'

const request = (overrides: Partial<GenerateImagesRequest> = {}): GenerateImagesRequest => ({
  upstreamModel: 'local-sketch',
  prompt: 'a red bicycle',
  n: 1,
  size: undefined,
  signal: new AbortController().signal,
  ...overrides,
})

describe('planLocalRender', () => {
  it('defaults to 1024x1024 PNG with a prompt-derived seed and no warnings', () => {
    expect(planLocalRender(request())).toEqual({
      width: 1024,
      height: 1024,
      seed: seedFromPrompt('a red bicycle'),
      format: 'png',
      quality: undefined,
      warnings: [],
    })
  })

  it('keeps an explicit size and seed', () => {
    const plan = planLocalRender(request({ size: { width: 1536, height: 640 }, seed: 99 }))
    expect(plan).toMatchObject({ width: 1536, height: 640, seed: 99, warnings: [] })
  })

  it('derives different seeds from different prompts', () => {
    expect(seedFromPrompt('a')).not.toBe(seedFromPrompt('b'))
    expect(seedFromPrompt('a')).toBe(seedFromPrompt('a'))
  })

  it('clamps sizes outside 64..4096 and says so', () => {
    const plan = planLocalRender(request({ size: { width: 5000, height: 32 } }))
    expect(plan).toMatchObject({ width: 4096, height: 64 })
    expect(plan.warnings).toEqual([
      'local-sketch renders sides of 64..4096 px; size 5000x32 became 4096x64',
    ])
  })

  it('turns output_compression into encoder quality for JPEG and WebP', () => {
    expect(planLocalRender(request({ outputFormat: 'jpeg', outputCompression: 30 }))).toMatchObject(
      { format: 'jpeg', quality: 70, warnings: [] },
    )
    expect(
      planLocalRender(request({ outputFormat: 'webp', outputCompression: 100 })),
    ).toMatchObject({ format: 'webp', quality: 1, warnings: [] })
  })

  it.each<[string, Partial<GenerateImagesRequest>, string]>([
    ['style', { style: 'vivid' }, 'local-sketch ignores style=vivid'],
    ['style', { style: 'natural' }, 'local-sketch ignores style=natural'],
    ['quality', { quality: 'hd' }, 'local-sketch ignores quality=hd'],
    [
      'background',
      { background: 'transparent' },
      'local-sketch ignores background=transparent (renders opaque)',
    ],
    [
      'moderation',
      { moderation: 'low' },
      'local-sketch ignores moderation=low (it moderates nothing)',
    ],
    ['grounding', { grounding: true }, 'local-sketch ignores grounding=true (no search grounding)'],
    [
      'safety settings',
      { safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }] },
      'local-sketch ignores safety_settings (no safety filtering)',
    ],
    [
      'output_compression on PNG',
      { outputFormat: 'png', outputCompression: 50 },
      'local-sketch ignores output_compression=50 for png (lossless)',
    ],
    [
      'output_compression out of range',
      { outputFormat: 'jpeg', outputCompression: 140 },
      'local-sketch clamped output_compression=140 to 100',
    ],
  ])('warns when it cannot honour %s', (_, overrides, warning) => {
    expect(planLocalRender(request(overrides)).warnings).toEqual([warning])
  })

  it.each<[string, Partial<GenerateImagesRequest>]>([
    ['quality=auto', { quality: 'auto' }],
    ['background=opaque', { background: 'opaque' }],
    ['background=auto', { background: 'auto' }],
    ['grounding=false', { grounding: false }],
    ['no safety settings', { safetySettings: [] }],
    ['a user id', { user: 'user-123' }],
  ])(
    'does not warn for %s, which it honours or which is not a rendering setting',
    (_, overrides) => {
      expect(planLocalRender(request(overrides)).warnings).toEqual([])
    },
  )

  it('reports every unsupported setting at once', () => {
    const plan = planLocalRender(request({ style: 'vivid', quality: 'hd', moderation: 'auto' }))
    expect(plan.warnings).toHaveLength(3)
  })
})
