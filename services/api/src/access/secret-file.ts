import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'

/** Owner read/write only: these files hold secrets. */
export const SECRET_FILE_MODE = 0o600

function fsyncPath(target: string, flags: string) {
  const fd = openSync(target, flags)
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Writes `text` to `file` with mode 0600, atomically (temp file, fsync, rename, fsync of the
 * directory): a crash leaves the old file or the new one, never half a secret. The temp file is
 * created with mode 0600 from the start, so the secret is never readable by others, not even
 * for an instant.
 */
export function writeSecretFile(file: string, text: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  const fd = openSync(temp, 'w', SECRET_FILE_MODE)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  // The umask cannot widen 0600, but an existing temp file kept its old mode.
  chmodSync(temp, SECRET_FILE_MODE)
  renameSync(temp, file)
  fsyncPath(path.dirname(file), 'r')
}

/**
 * The secret kept in `file` (hex), created with `bytes` random bytes on first use. Creation
 * uses O_EXCL, so two processes starting at once on one data dir agree on one secret.
 */
export function readOrCreateSecret(file: string, bytes = 32): Buffer {
  try {
    return parseSecret(file, readFileSync(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err
    }
  }
  const secret = randomBytes(bytes)
  try {
    const fd = openSync(file, 'wx', SECRET_FILE_MODE)
    try {
      writeSync(fd, `${secret.toString('hex')}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    fsyncPath(path.dirname(file), 'r')
    return secret
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      return parseSecret(file, readFileSync(file, 'utf8'))
    }
    throw err
  }
}

function parseSecret(file: string, text: string): Buffer {
  const hex = text.trim()
  if (!/^(?:[0-9a-f]{2}){16,}$/.test(hex)) {
    throw new Error(`${file} does not hold a hex secret of at least 16 bytes`)
  }
  return Buffer.from(hex, 'hex')
}
