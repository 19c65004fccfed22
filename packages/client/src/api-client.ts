import type { Client } from 'openapi-fetch'
import type { SyncPaths } from './accepted.js'

/**
 * Answers are typed by their JSON: an operation that can also stream (`text/event-stream`) is
 * read through readImageStream instead, so its events do not widen every `data` to a union.
 */
export type JsonMedia = 'application/json'

/** The openapi-fetch client of the imagegate contract, as its synchronous JSON answers type it. */
export type ApiClient = Client<SyncPaths, JsonMedia>
