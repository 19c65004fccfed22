import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import {
  type AddressPolicy,
  type BlockedClass,
  blockedClassOf,
  isLoopbackAddress,
} from './address-policy.ts'

/** A resolved address, as `dns.lookup(host, { all: true })` answers. */
export type ResolvedAddress = { address: string; family: 4 | 6 }

/** Resolves a host name to every address it has (injected: tests resolve names to what they like). */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>

/** The system resolver (getaddrinfo, as a connection would use), bounded by `timeoutMs`. */
export function systemResolve(timeoutMs = 5_000): Resolve {
  return async (hostname) => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`DNS lookup of ${hostname} timed out`)), timeoutMs)
    })
    try {
      const answers = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout])
      return answers.map((answer) => ({
        address: answer.address,
        family: answer.family === 6 ? 6 : 4,
      }))
    } finally {
      clearTimeout(timer)
    }
  }
}

/** A URL a webhook may not be sent to, and why (one sentence for the caller). */
export class UnsafeWebhookTargetError extends Error {
  constructor(
    message: string,
    readonly blocked?: BlockedClass,
  ) {
    super(message)
    this.name = 'UnsafeWebhookTargetError'
  }
}

/** Where one attempt connects: the URL, and the checked address it connects to (no second lookup). */
export type CheckedTarget = { url: URL; address: ResolvedAddress }

export type TargetPolicy = AddressPolicy & { resolve: Resolve }

const MAX_URL_LENGTH = 2048

/** The parts of a webhook URL that need no network to judge: scheme, credentials, host. */
export function parseWebhookUrl(text: string, policy: AddressPolicy): URL {
  if (text.length > MAX_URL_LENGTH) {
    throw new UnsafeWebhookTargetError(
      `The webhook URL is longer than ${MAX_URL_LENGTH} characters`,
    )
  }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UnsafeWebhookTargetError('The webhook URL is not an absolute URL')
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowLoopback)) {
    throw new UnsafeWebhookTargetError(
      policy.allowLoopback
        ? 'A webhook URL must be https (http only to a loopback address)'
        : 'A webhook URL must be https',
    )
  }
  if (url.username || url.password) {
    throw new UnsafeWebhookTargetError('A webhook URL may not carry credentials')
  }
  return url
}

/** A bracketed IPv6 literal as `URL` spells its hostname, unbracketed. */
function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
}

/**
 * Checks a webhook URL where it would lead: the host is resolved and every address it resolves
 * to must be public unicast (one private answer among public ones is refused, since a client
 * could be handed either). Plain http is allowed only when the flag is on and every address is
 * loopback. Answers the address to connect to, so the connection makes no second lookup that a
 * name server could answer differently (DNS rebinding).
 */
export async function checkWebhookTarget(
  text: string,
  policy: TargetPolicy,
): Promise<CheckedTarget> {
  const url = parseWebhookUrl(text, policy)
  const host = hostOf(url)
  let addresses: ResolvedAddress[]
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }]
  } else {
    try {
      addresses = await policy.resolve(host)
    } catch (err) {
      throw new UnsafeWebhookTargetError(
        `The webhook host ${host} does not resolve (${err instanceof Error ? err.message : String(err)})`,
      )
    }
    if (addresses.length === 0) {
      throw new UnsafeWebhookTargetError(`The webhook host ${host} does not resolve`)
    }
  }
  for (const { address } of addresses) {
    const blocked = blockedClassOf(address, policy)
    if (blocked) {
      throw new UnsafeWebhookTargetError(
        `The webhook host ${host} resolves to ${address}, a ${blocked} address`,
        blocked,
      )
    }
  }
  if (url.protocol === 'http:' && !addresses.every(({ address }) => isLoopbackAddress(address))) {
    throw new UnsafeWebhookTargetError('Plain http is allowed only to a loopback address')
  }
  return { url, address: addresses[0] as ResolvedAddress }
}
