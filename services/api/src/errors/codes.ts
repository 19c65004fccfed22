/**
 * The error table: every machine code imagegate answers with, its HTTP status,
 * the OpenAI-style `type` and whether a client may retry it unchanged.
 * `retry: 'method'` means: safe for GET/HEAD, not for a POST that may have been charged.
 */
export const errorTable = {
  invalid_request: { status: 400, type: 'invalid_request_error', retry: false },
  model_not_found: { status: 400, type: 'invalid_request_error', retry: false },
  unsupported_parameter: { status: 400, type: 'invalid_request_error', retry: false },
  missing_digest: { status: 400, type: 'invalid_request_error', retry: false },
  invalid_digest: { status: 400, type: 'invalid_request_error', retry: false },
  content_policy_violation: { status: 400, type: 'invalid_request_error', retry: false },
  unsafe_webhook_url: { status: 400, type: 'invalid_request_error', retry: false },
  unauthorized: { status: 401, type: 'authentication_error', retry: false },
  insufficient_credits: { status: 402, type: 'billing_error', retry: false },
  insufficient_scope: { status: 403, type: 'permission_error', retry: false },
  invalid_signature: { status: 403, type: 'permission_error', retry: false },
  not_found: { status: 404, type: 'not_found_error', retry: false },
  request_timeout: { status: 408, type: 'invalid_request_error', retry: true },
  idempotency_key_in_use: { status: 409, type: 'conflict_error', retry: true },
  generation_not_cancellable: { status: 409, type: 'conflict_error', retry: false },
  payload_too_large: { status: 413, type: 'invalid_request_error', retry: false },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', retry: false },
  range_not_satisfiable: { status: 416, type: 'invalid_request_error', retry: false },
  digest_mismatch: { status: 422, type: 'invalid_request_error', retry: true },
  idempotency_key_reused: { status: 422, type: 'invalid_request_error', retry: false },
  rate_limited: { status: 429, type: 'rate_limit_error', retry: true },
  headers_too_large: { status: 431, type: 'invalid_request_error', retry: false },
  internal_error: { status: 500, type: 'server_error', retry: 'method' },
  upstream_error: { status: 502, type: 'upstream_error', retry: false },
  upstream_unavailable: { status: 503, type: 'upstream_error', retry: false },
  upstream_timeout: { status: 504, type: 'upstream_error', retry: false },
} as const satisfies Record<string, { status: number; type: string; retry: boolean | 'method' }>

export type ErrorCode = keyof typeof errorTable
export type ErrorStatus = (typeof errorTable)[ErrorCode]['status']
export const errorCodes = Object.keys(errorTable) as [ErrorCode, ...ErrorCode[]]
