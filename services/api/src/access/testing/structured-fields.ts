/**
 * A strict parser for the subset of RFC 9651 Structured Field Lists the rate-limit headers use:
 * members that are sf-strings with integer parameters. It throws on anything else, so a test
 * that parses a header proves the header is well-formed, not merely that a regex matched.
 */
export type SfMember = { value: string; params: Record<string, number> }

export function parseSfList(input: string): SfMember[] {
  let at = 0
  const members: SfMember[] = []
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${at} in ${JSON.stringify(input)}`)
  }
  const skip = (chars: string) => {
    while (at < input.length && chars.includes(input.charAt(at))) {
      at += 1
    }
  }
  skip(' ')
  while (at < input.length) {
    if (input[at] !== '"') {
      fail('expected a string')
    }
    at += 1
    let value = ''
    while (input[at] !== '"') {
      const char = input.charAt(at)
      if (at >= input.length || char < ' ' || char > '~') {
        fail('bad string character')
      }
      if (char === '\\') {
        at += 1
        if (input[at] !== '"' && input[at] !== '\\') {
          fail('bad escape')
        }
      }
      value += input[at]
      at += 1
    }
    at += 1
    const params: Record<string, number> = {}
    while (input[at] === ';') {
      at += 1
      const key = /^[a-z*][a-z0-9_\-.*]*/.exec(input.slice(at))?.[0] ?? fail('expected a key')
      at += key.length
      if (input[at] !== '=') {
        fail('expected =')
      }
      at += 1
      const number = /^-?[0-9]{1,15}/.exec(input.slice(at))?.[0] ?? fail('expected an integer')
      at += number.length
      params[key] = Number(number)
    }
    members.push({ value, params })
    skip(' \t')
    if (at >= input.length) {
      break
    }
    if (input[at] !== ',') {
      fail('expected ,')
    }
    at += 1
    skip(' \t')
    if (at >= input.length) {
      fail('trailing comma')
    }
  }
  return members
}
