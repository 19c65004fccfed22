/**
 * Runs s3rver as its own process for tests (see s3-server.ts): binds a free loopback port (or the one given),
 * creates the bucket, prints `listening <port>` once ready, and exits when its parent goes
 * away (stdin closes) or its lifetime runs out, so a crashed test run leaves no server behind.
 * Usage: node s3rver-child.mjs <directory> <bucket> <lifetimeMs> [port]
 */
import S3rver from 's3rver'

const [directory, bucket, lifetimeMs, requestedPort = '0'] = process.argv.slice(2)
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(requestedPort),
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
})
const { port } = await server.run()
process.stdout.write(`listening ${port}\n`)

const stop = () => {
  server.close().finally(() => process.exit(0))
  // A keep-alive connection holds close() open; the parent is gone, so do not wait for it.
  setTimeout(() => process.exit(0), 1000).unref()
}
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
setTimeout(stop, Number(lifetimeMs)).unref()
