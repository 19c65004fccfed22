import type { ModelEntry } from '../../catalog/model-entry.ts'
import type { AssetRow, GenerationRow } from '../../db/schema/index.ts'
import type { CircuitBreaker } from '../../providers/resilience/circuit-breaker.ts'
import type { RetryBudget } from '../../providers/resilience/retry-budget.ts'
import type { ImageProvider, PartialImageWriter, ProviderImage } from '../../providers/types.ts'
import type { InputImageRef } from '../../refinement/types.ts'
import type { ImageGenerationRequest } from '../../schemas/images.ts'
import type { InputParams } from './inputs.ts'
import type { GenerationPlan } from './plan.ts'
import type { UpstreamReports } from './upstream-reports.ts'

/** A configured provider with the state its retry policy keeps between calls. */
export type ProviderRuntime = {
  provider: ImageProvider
  breaker: CircuitBreaker
  budget: RetryBudget
}

/**
 * The counters a generation moves: the port this folder needs, whatever exports them
 * (http/middleware/metrics.ts implements it with prom-client).
 */
export type GenerationMetrics = {
  /** Images verified and stored, by model and provider. */
  images: { inc(labels: { model: string; provider: string }, value?: number): void }
  /** Generations that failed for good, by error code. */
  generationFailures: { inc(labels: { model: string; code: string }): void }
}

export type GenerationInput = Omit<
  ImageGenerationRequest,
  | 'response_format'
  | 'parent_generation_id'
  | 'parent_asset_id'
  | 'input_images'
  | 'stream'
  | 'partial_images'
  | 'webhook_url'
> & {
  operation: 'generate' | 'edit' | 'skill'
  sourceTaskId?: string
  sourceAgentImUserId?: string
  /** Refine this generation's first image. */
  parentGenerationId?: string
  /** Refine this image of an earlier generation. */
  parentAssetId?: string
  /** Input images already in the asset store, in the order the prompt numbers them. */
  inputs?: InputImageRef[]
  /** Edits: the mask, stored as an asset (checked here: a PNG with alpha, the first image's size). */
  maskAssetId?: string
  /** OpenAI GPT Image edits. */
  inputFidelity?: 'high' | 'low'
  /** Where to announce the final status, besides the workspace's endpoints (checked when held). */
  webhookUrl?: string
  /** The request fields the references came in, for error messages (defaults: the JSON names). */
  params?: Partial<InputParams>
}

/**
 * A request resolved against the catalog, planned and priced, once: every later step (hold,
 * dispatch, store, record, settle) takes this. Plain data, so it can wait in a queue.
 */
export type PreparedGeneration = {
  workspaceId: string
  /** The request with what a refinement implies filled in (the parent's model). */
  input: GenerationInput
  model: ModelEntry
  plan: GenerationPlan
  /** The worst case (price × n) in ledger units: what is held before dispatch; 0 is free. */
  units: number
}

export type GeneratedImage = {
  asset: AssetRow
  bytes: Uint8Array
  /** `bytes` as standard base64, when the provider sent it that way (see ProviderImage). */
  base64?: ProviderImage['base64']
  revisedPrompt?: string
}

export type GenerationOutcome = {
  generation: GenerationRow
  images: GeneratedImage[]
  model: ModelEntry
  plan: GenerationPlan
  /** What the provider reported about the calls that answered (see combineUpstreamReports). */
  usage?: UpstreamReports['usage']
  reported?: UpstreamReports['reported']
  /** Time spent waiting for the provider (its calls, retries and backoff), answers' reading excluded. */
  upstreamMs: number
  /** Time spent outside the provider: parse, verify, hash, store, record. */
  overheadMs: number
  /**
   * Releases the memory the images were read from and decoded into (see
   * storage/release-buffers.ts): for the route, once the answer built from `images` has been
   * written in full. Absent on an outcome other requests may share.
   */
  releaseBuffers?: () => void
}

/**
 * Where a streamed generation's partial images go as the provider makes them: a run-time
 * listener, not part of the prepared (queueable) generation.
 */
export type PartialImageSink = {
  /** Partial images asked of the provider (1–3). */
  partialImages: number
  /** A partial image begins: its writer is given the base64 as it arrives, then its fields. */
  onPartialImage(): PartialImageWriter
}
