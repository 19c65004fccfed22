import type { z } from 'zod'
import { InvalidRequestError } from './app-error.ts'

type Issues = z.ZodError['issues']

export type ZodIssueOptions = {
  /**
   * Where the validated value sits in the request, when it is not the request itself (a JSON
   * text inside a form field): the field is the `param`, and paths are read from it.
   */
  at?: string
  /** The message for a field the schema does not know, named as `param` (multipart forms). */
  unknownField?: (name: string) => string
}

/**
 * Zod's issues as the one 400 every validation failure answers: the first issue's path and
 * message (and how many more there are), the path as `param`, every issue in `details.issues`.
 */
export function invalidRequestFromIssues(
  issues: Issues,
  options: ZodIssueOptions = {},
): InvalidRequestError {
  const first = issues[0]
  if (first?.code === 'unrecognized_keys' && first.path.length === 0 && options.unknownField) {
    const name = first.keys[0] ?? ''
    return new InvalidRequestError(options.unknownField(name), { param: name })
  }
  const listed = issues.map((issue) => ({
    path: [options.at, ...issue.path.map(String)].filter((part) => part).join('.'),
    message: issue.message,
  }))
  const head = listed[0]
  if (!head) {
    return new InvalidRequestError('Invalid request', options.at ? { param: options.at } : {})
  }
  const more = listed.length > 1 ? ` (and ${listed.length - 1} more)` : ''
  return new InvalidRequestError(`${head.path ? `${head.path}: ` : ''}${head.message}${more}`, {
    param: options.at ?? (head.path || undefined),
    details: { issues: listed },
  })
}
