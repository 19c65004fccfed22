/**
 * RFC 9110 §5.6.7 HTTP-date: senders use IMF-fixdate, recipients MUST also accept the obsolete
 * RFC 850 and asctime forms. Parsed by hand because `Date.parse` reads asctime (which has no
 * zone) as local time and accepts garbage such as "2" as a date.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const MONTH = `(${MONTHS.join('|')})`
const DAY_NAME = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)'
const LONG_DAY_NAME = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)'
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})'

const IMF_FIXDATE = new RegExp(`^${DAY_NAME}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`)
const RFC850_DATE = new RegExp(`^${LONG_DAY_NAME}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`)
const ASCTIME_DATE = new RegExp(`^${DAY_NAME} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`)

/** Epoch milliseconds of an HTTP-date, or undefined if `value` is not one. */
export function parseHttpDate(value: string, now: Date): number | undefined {
  const fixdate = IMF_FIXDATE.exec(value)
  if (fixdate) {
    const [, day, month, year, hour, minute, second] = fixdate
    return utc(Number(year), month, day, hour, minute, second)
  }
  const rfc850 = RFC850_DATE.exec(value)
  if (rfc850) {
    const [, day, month, year, hour, minute, second] = rfc850
    return utc(fullYear(Number(year), now), month, day, hour, minute, second)
  }
  const asctime = ASCTIME_DATE.exec(value)
  if (asctime) {
    const [, month, day, hour, minute, second, year] = asctime
    return utc(Number(year), month, day, hour, minute, second)
  }
  return undefined
}

/** RFC 9110: a two-digit year more than 50 years ahead means the most recent matching past year. */
function fullYear(twoDigits: number, now: Date): number {
  const current = now.getUTCFullYear()
  let year = current - (current % 100) + twoDigits
  if (year > current + 50) {
    year -= 100
  } else if (year + 100 <= current + 50) {
    year += 100
  }
  return year
}

function utc(
  year: number,
  monthName: string | undefined,
  dayText: string | undefined,
  hourText: string | undefined,
  minuteText: string | undefined,
  secondText: string | undefined,
): number | undefined {
  const month = MONTHS.indexOf(monthName ?? '')
  const day = Number(dayText)
  const hour = Number(hourText)
  const minute = Number(minuteText)
  // 60 allows a leap second, which Date.UTC rolls into the next minute.
  const second = Number(secondText)
  if (month < 0 || hour > 23 || minute > 59 || second > 60) {
    return undefined
  }
  // Date.UTC silently rolls 31 Feb into March; such a date is malformed, not advice.
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) {
    return undefined
  }
  return Date.UTC(year, month, day, hour, minute, second)
}
