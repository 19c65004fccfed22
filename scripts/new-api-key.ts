/**
 * Prints a new API key in imagegate's format (igk_, 43 random base62 digits, a checksum), for
 * IMAGEGATE_BOOTSTRAP_ADMIN_KEY: a deployment chooses its first admin key before the first
 * start instead of reading it from that start's output.
 */
import { randomBytes } from 'node:crypto'
import { generateApiKey } from '../services/api/src/access/api-key-format.ts'

process.stdout.write(`${generateApiKey((size) => randomBytes(size)).key}\n`)
