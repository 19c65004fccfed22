import type { IdempotencyStore } from '../access/idempotency-store.ts'
import type { Ledger } from '../access/ledger.ts'
import type { BlobPins } from '../storage/blob-pins.ts'
import type {
  ApiKeysRepository,
  AssetsRepository,
  BootstrapRepository,
  GenerationsRepository,
  WorkspacesRepository,
} from './ports.ts'

/**
 * Every storage port on one database: what deps.ts builds services from. Writes that must share
 * a commit across ports are single port methods (WorkspacesRepository.createFunded,
 * BootstrapRepository.bootstrapAdmin, IdempotencyStore.complete/release with a
 * ReservationClose), so each backend runs them as one transaction on one connection.
 */
export type Store = {
  /** Which backend this is, for logs and readiness. */
  kind: 'sqlite' | 'postgres'
  apiKeys: ApiKeysRepository
  workspaces: WorkspacesRepository
  bootstrap: BootstrapRepository
  assets: AssetsRepository
  generations: GenerationsRepository
  ledger: Ledger
  idempotency: IdempotencyStore
  pins: BlobPins
  /** Throws when the database cannot answer (readiness). */
  check(): Promise<void>
  close(): Promise<void>
}
