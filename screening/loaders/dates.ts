import type { DateOfBirth } from '../types.js'

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
}

interface DatePoint { year: number; month: number | null; day: number | null }

/** '1962', 'Jan 1962', '01 Jan 1962', '1962-01-31', '31/01/1962', '1962-01' (YYYY-MM). */
function parsePoint(text: string): DatePoint | null {
  const value = text.trim().replace(/\.$/, '')
  let match = /^(\d{4})$/.exec(value)
  if (match) return { year: Number(match[1]), month: null, day: null }
  match = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(value)
  if (match) {
    const month = Number(match[2])
    const day = match[3] === undefined ? null : Number(match[3])
    // EU and UN files write unknown parts as 00.
    return { year: Number(match[1]), month: month === 0 ? null : month, day: day === 0 ? null : day }
  }
  match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value)
  if (match) return { year: Number(match[3]), month: Number(match[2]), day: Number(match[1]) }
  match = /^(?:(\d{1,2}) )?([A-Za-z]{3})[a-z]* (\d{4})$/.exec(value)
  if (match) {
    const month = MONTHS[(match[2] as string).toLowerCase()]
    if (month === undefined) return null
    return { year: Number(match[3]), month, day: match[1] === undefined ? null : Number(match[1]) }
  }
  return null
}

/**
 * Parses a date of birth as lists write it; null when the text is not a date.
 *
 * Example: parseDateOfBirth('circa 1960') → { fromYear: 1960, toYear: 1960, month: null, day: null, approximate: true }
 *          parseDateOfBirth('1955 to 1958') → { fromYear: 1955, toYear: 1958, month: null, day: null, approximate: false }
 */
export function parseDateOfBirth(text: string): DateOfBirth | null {
  let value = text.trim().replace(/\.$/, '')
  let approximate = false
  const circa = /^(?:circa|c\.|approx(?:imately)?\.?)\s+/i.exec(value)
  if (circa) {
    approximate = true
    value = value.slice(circa[0].length)
  }
  const range = value.split(/\s+(?:to|-)\s+/)
  if (range.length === 2) {
    const from = parsePoint(range[0] as string)
    const to = parsePoint(range[1] as string)
    if (from === null || to === null) return null
    return { fromYear: from.year, toYear: to.year, month: null, day: null, approximate }
  }
  const point = parsePoint(value)
  if (point === null) return null
  return { fromYear: point.year, toYear: point.year, month: point.month, day: point.day, approximate }
}
