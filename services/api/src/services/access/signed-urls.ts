import { parseSignedUrlParams, signAssetUrl, verifyAssetUrl } from '../../access/url-signature.ts'
import { invalidSignatureError } from '../../errors/access-errors.ts'
import type { Clock } from '../../ids.ts'
import { assetContentPath } from '../asset-dto.ts'

export type SignedUrlServiceDeps = {
  /** Kept in the data dir (`url-signing-key`); rotating it voids every URL handed out. */
  secret: Buffer
  clock: Clock
  ttlSeconds: number
  /** Whose asset this is, by id alone (the URL carries no key). */
  assetWorkspace(assetId: string): Promise<string | undefined>
}

export function createSignedUrlService(deps: SignedUrlServiceDeps) {
  const nowSeconds = () => Math.floor(deps.clock.now().getTime() / 1000)
  return {
    /** `/v1/assets/{id}/content?expires=…&signature=…`, valid for the configured lifetime. */
    contentPath(workspaceId: string, assetId: string): string {
      const { expires, signature } = signAssetUrl(
        deps.secret,
        workspaceId,
        assetId,
        nowSeconds() + deps.ttlSeconds,
      )
      return `${assetContentPath(assetId)}?expires=${expires}&signature=${signature}`
    },

    /**
     * The workspace a signed request reads from, or 403 invalid_signature for a URL that is
     * malformed, expired, forged, or names an asset that no longer exists (the same answer for
     * all, so a signature probe learns nothing about which ids exist).
     */
    async verify(
      assetId: string,
      expires: string | undefined,
      signature: string | undefined,
    ): Promise<string> {
      const params = parseSignedUrlParams(expires, signature)
      if (!params || params.expires <= nowSeconds()) {
        throw invalidSignatureError()
      }
      const workspaceId = await deps.assetWorkspace(assetId)
      if (
        workspaceId === undefined ||
        !verifyAssetUrl(deps.secret, workspaceId, assetId, params, nowSeconds())
      ) {
        throw invalidSignatureError()
      }
      return workspaceId
    },
  }
}

export type SignedUrlService = ReturnType<typeof createSignedUrlService>
