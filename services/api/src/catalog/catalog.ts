import { readFileSync } from 'node:fs'
import type { Config } from '../config.ts'
import { AppError } from '../errors/app-error.ts'
import type { ProviderName } from '../providers/types.ts'
import builtIn from './default-models.json' with { type: 'json' }
import { CatalogFileSchema, type ModelEntry } from './model-entry.ts'

const enablingVariable: Record<Exclude<ProviderName, 'local'>, string> = {
  openai: 'IMAGEGATE_OPENAI_API_KEY',
  gemini: 'IMAGEGATE_GEMINI_API_KEY',
}

export type Catalog = {
  readonly models: readonly ModelEntry[]
  readonly defaultModelId: string
  /** Whether requests for this model can be served with the current configuration. */
  isEnabled(model: ModelEntry): boolean
  /** The model a request names (or the default), or 400 model_not_found saying why. */
  resolve(requested: string | undefined): ModelEntry
}

/** Parses a catalog file; a bad file fails start-up with every problem listed. */
export function parseCatalog(json: unknown, source: string): ModelEntry[] {
  const parsed = CatalogFileSchema.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new Error(`Invalid model catalog ${source}:\n  - ${problems.join('\n  - ')}`)
  }
  const ids = new Set<string>()
  for (const model of parsed.data.models) {
    if (ids.has(model.id)) {
      throw new Error(`Invalid model catalog ${source}: model ${model.id} appears twice`)
    }
    ids.add(model.id)
  }
  return parsed.data.models
}

type CatalogConfig = Pick<Config, 'modelsFile' | 'defaultModel' | 'mockImages'>

/** The built-in catalog, or IMAGEGATE_MODELS_FILE's. `configured`: providers that have a key. */
export function loadCatalog(config: CatalogConfig, configured: ReadonlySet<ProviderName>): Catalog {
  const models = config.modelsFile
    ? parseCatalog(JSON.parse(readFileSync(config.modelsFile, 'utf8')), config.modelsFile)
    : parseCatalog(builtIn, 'default-models.json')
  return createCatalog(models, config, configured)
}

export function createCatalog(
  models: ModelEntry[],
  config: CatalogConfig,
  configured: ReadonlySet<ProviderName>,
): Catalog {
  const keys: Record<ProviderName, boolean> = {
    local: true,
    openai: configured.has('openai'),
    gemini: configured.has('gemini'),
  }
  // Mock mode answers every model from the local renderer, so every model is servable.
  const isEnabled = (model: ModelEntry) => config.mockImages || keys[model.provider]
  const byId = new Map(models.map((model) => [model.id, model]))
  const firstOf = (provider: ProviderName) =>
    models.find((model) => model.provider === provider)?.id
  const defaultModelId =
    config.defaultModel ??
    (keys.openai ? firstOf('openai') : undefined) ??
    (keys.gemini ? firstOf('gemini') : undefined) ??
    firstOf('local') ??
    models[0]?.id ??
    'local-sketch'

  return {
    models,
    defaultModelId,
    isEnabled,
    resolve(requested) {
      const id = requested ?? defaultModelId
      const model = byId.get(id)
      if (!model) {
        throw new AppError(
          'model_not_found',
          `Unknown model '${id}'. GET /v1/models lists the models of this gateway`,
          { param: 'model' },
        )
      }
      if (!isEnabled(model)) {
        const variable = enablingVariable[model.provider as Exclude<ProviderName, 'local'>]
        throw new AppError(
          'model_not_found',
          `Model '${id}' needs the ${model.provider} provider, which is not configured: set ${variable}`,
          { param: 'model' },
        )
      }
      return model
    },
  }
}
