import { z } from 'zod'

/** The spellings of a yes/no variable imagegate accepts. */
export const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes')
