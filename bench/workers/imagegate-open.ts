/**
 * The baseline server of bench/access.ts: imagegate with access control off. Prints its URL
 * on the first line, then serves until killed.
 */
import { serveWithoutAccessControl } from '../lib/open-server.ts'

const input = JSON.parse(process.argv[2] ?? '{}') as { env: Record<string, string> }
await serveWithoutAccessControl(input.env, (url) => console.log(url))
