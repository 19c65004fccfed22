import type { App, RouteModule } from '../http/route-types.ts'
import * as assetContent from './assets/content.ts'
import * as deleteAsset from './assets/delete.ts'
import * as getAsset from './assets/get.ts'
import * as listAssets from './assets/list.ts'
import * as uploadAsset from './assets/upload.ts'
import * as cancelGeneration from './generations/cancel.ts'
import * as getGeneration from './generations/get.ts'
import * as listGenerations from './generations/list.ts'
import * as editImages from './images/edit.ts'
import * as generateImages from './images/generate.ts'
import * as revokeKey from './keys/revoke.ts'
import * as listModels from './models/list.ts'
import * as imageGenerateSkill from './skills/image-generate.ts'
import * as healthz from './system/healthz.ts'
import * as metrics from './system/metrics.ts'
import * as readyz from './system/readyz.ts'
import * as createWebhook from './webhooks/create.ts'
import * as deleteWebhook from './webhooks/delete.ts'
import * as listWebhookDeliveries from './webhooks/deliveries.ts'
import * as listWebhooks from './webhooks/list.ts'
import * as rotateWebhookSigningSecret from './webhooks/rotate-secret.ts'
import * as createWorkspace from './workspaces/create.ts'
import * as createWorkspaceKey from './workspaces/create-key.ts'
import * as grantCredits from './workspaces/grant-credits.ts'
import * as listWorkspaces from './workspaces/list.ts'
import * as listKeys from './workspaces/list-keys.ts'
import * as usage from './workspaces/usage.ts'

/**
 * Every route of the contract, in a fixed order (the order of the generated document). Each is
 * mounted the same way, and its access rule comes from the same file (routes/access-table.ts).
 */
export const routeModules: readonly RouteModule[] = [
  healthz,
  readyz,
  metrics,
  generateImages,
  editImages,
  imageGenerateSkill,
  listModels,
  listGenerations,
  getGeneration,
  cancelGeneration,
  uploadAsset,
  listAssets,
  assetContent,
  getAsset,
  deleteAsset,
  createWorkspace,
  listWorkspaces,
  createWorkspaceKey,
  listKeys,
  revokeKey,
  grantCredits,
  usage,
  createWebhook,
  listWebhooks,
  deleteWebhook,
  listWebhookDeliveries,
  rotateWebhookSigningSecret,
]

export function registerRoutes(app: App, deps: Parameters<RouteModule['register']>[1]) {
  for (const module of routeModules) {
    module.register(app, deps)
  }
}
