import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { GcraStore } from './gcra-store.ts'

/**
 * One decision, atomically (a script runs alone on the server): KEYS are the buckets; ARGV[1]
 * is 1 to spend, 0 to look; then emission interval, capacity and cost per bucket. The same
 * integer arithmetic as gcraDecide: a bucket admits `cost` when max(tat, now) + cost·T −
 * capacity ≤ now. Only when every bucket admits and ARGV[1] is 1 are the new TATs written, each
 * with an expiry at the moment its bucket is full again (a TAT at or before now means exactly
 * what an absent key means), so idle buckets vanish on their own.
 *
 * The clock is the server's (TIME), never an instance's: instances' clocks differ, and a TAT
 * written on one clock and read on another would hand out or withhold budget by the skew.
 * `redis.replicate_commands()` lets TIME precede writes on servers before Redis 5 (a no-op
 * since). Numbers stay exact: milliseconds since 1970 are far below 2^53.
 *
 * Replies {now, tat₁, …, tatₙ}: the TATs as they were before this decision.
 */
const SCRIPT = `redis.replicate_commands()
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tats = {}
local admitted = true
for i, key in ipairs(KEYS) do
  local base = 1 + (i - 1) * 3
  local emission = tonumber(ARGV[base + 1])
  local capacity = tonumber(ARGV[base + 2])
  local cost = tonumber(ARGV[base + 3])
  local tat = tonumber(redis.call('GET', key) or '0')
  tats[i] = tat
  if math.max(tat, now) + cost * emission - capacity > now then
    admitted = false
  end
end
if admitted and ARGV[1] == '1' then
  for i, key in ipairs(KEYS) do
    local base = 1 + (i - 1) * 3
    local spent = math.max(tats[i], now) + tonumber(ARGV[base + 3]) * tonumber(ARGV[base + 1])
    if spent > now then
      redis.call('SET', key, string.format('%d', spent), 'PX', string.format('%d', spent - now))
    end
  end
end
local reply = { now }
for i = 1, #KEYS do
  reply[i + 1] = tats[i]
end
return reply
`

const SCRIPT_SHA = createHash('sha1').update(SCRIPT).digest('hex')

/**
 * The limiters' TATs in Redis, shared by every instance: one key per bucket,
 * `<keyPrefix><slot>` (e.g. `imagegate:requests:key:key_01…`), one script call per decision.
 * The script is sent by its SHA (EVALSHA) and in full only when the server does not have it
 * (NOSCRIPT: first use, a restart, SCRIPT FLUSH). A failed call rejects; what to do then is
 * fallback-gcra-store.ts's business. One Redis server (or primary): a decision's keys may lie
 * in different Cluster slots, so Redis Cluster is not supported.
 */
export function createRedisGcraStore(options: { redis: Redis; keyPrefix: string }): GcraStore {
  const { redis, keyPrefix } = options

  async function run(keys: string[], args: string[]): Promise<unknown> {
    try {
      return await redis.evalsha(SCRIPT_SHA, keys.length, ...keys, ...args)
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return redis.eval(SCRIPT, keys.length, ...keys, ...args)
      }
      throw err
    }
  }

  return {
    async apply(buckets, spend) {
      const keys: string[] = []
      const args: string[] = [spend ? '1' : '0']
      for (const { slot, params, cost } of buckets) {
        keys.push(keyPrefix + slot)
        args.push(String(params.emissionMs), String(params.capacityMs), String(cost))
      }
      const reply = await run(keys, args)
      if (
        !Array.isArray(reply) ||
        reply.length !== buckets.length + 1 ||
        !reply.every((value) => Number.isSafeInteger(value))
      ) {
        throw new Error(`unexpected reply from the rate-limit script: ${JSON.stringify(reply)}`)
      }
      const [nowMs, ...tats] = reply as number[]
      return { nowMs: nowMs as number, tats }
    },
  }
}
