export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>

/** Bytes already in memory, as a source of one chunk. */
export async function* singleChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array, void, undefined> {
  yield bytes
}

function isReadableStream(source: ByteSource): source is ReadableStream<Uint8Array> {
  return typeof (source as ReadableStream<Uint8Array>).getReader === 'function'
}

/**
 * Iterates either kind of source one chunk at a time. A consumer that stops early (size limit,
 * write failure) cancels a web stream and returns an async iterator, so an HTTP body stops
 * being read instead of being drained into nowhere.
 */
export async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array, void, undefined> {
  if (!isReadableStream(source)) {
    yield* source
    return
  }
  const reader = source.getReader()
  let finished = false
  try {
    while (true) {
      const { done, value } = await reader.read()
      if (done) {
        finished = true
        return
      }
      yield value
    }
  } finally {
    if (!finished) {
      await reader.cancel().catch(() => {})
    }
    reader.releaseLock()
  }
}
