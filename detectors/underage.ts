/**
 * underage: the player's date of birth makes them younger than the jurisdiction's minimum age
 * (`minimumAge`) at the event's time (catalog 7). Evaluated on every withdrawal request (hit
 * or not, so the decision records it); on a registration or profile change, a deposit or a bet
 * it raises one alert per date of birth (the first time it finds the player under age), not one
 * per bet.
 *
 * Age is counted in whole years on the calendar of the jurisdiction's local time
 * (`utcOffsetMinutes`, a fixed offset: daylight saving is ignored, which moves a birthday's
 * start by at most an hour). Someone born on 29 February comes of age on 1 March in non-leap
 * years, as UK law counts it.
 *
 * Worked example (minimumAge 18, utcOffsetMinutes 60, born 2008-06-01): a deposit at
 * 2026-05-31T22:59Z (23:59 local) -> hit, value 17, threshold 18; a withdrawal at
 * 2026-05-31T23:00Z (00:00 on 1 June local) -> no hit, value 18. An unknown date of birth is no
 * hit (value null): missing KYC data is kyc_incomplete_withdrawal's business.
 */
import { defineDetector, type Observation } from './detector.js'

export interface UnderageParams {
  readonly minimumAge: number
  /** The jurisdiction's offset from UTC in minutes (e.g. MT 60, UK 0, CW -240). */
  readonly utcOffsetMinutes: number
}

export interface UnderageState {
  /** The date of birth an alert was already raised for, so one player does not raise one per bet. */
  readonly alertedDateOfBirth: string | null
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const MINUTE_MS = 60_000

/**
 * Whole years between a YYYY-MM-DD date of birth and the local calendar date at `timeMs`;
 * null when the date cannot be read.
 * Example: ageInYears('2008-06-01', Date.UTC(2026, 4, 31, 23), 60) === 18
 */
export function ageInYears(dateOfBirth: string, timeMs: number, utcOffsetMinutes: number): number | null {
  const birth = parseDateOfBirth(dateOfBirth)
  if (birth === null) return null
  const localMs = timeMs + utcOffsetMinutes * MINUTE_MS
  // Integer calendar arithmetic instead of a Date per event (this runs on every bet); Date only
  // outside the range where the two agree for certain.
  let year: number
  let month: number
  let day: number
  if (Math.abs(localMs) < MAX_CIVIL_MS) {
    [year, month, day] = civilFromDays(Math.floor(localMs / DAY_MS))
  } else {
    const local = new Date(localMs)
    ;[year, month, day] = [local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate()]
  }
  const birthdayPassed = month > birth.month || (month === birth.month && day >= birth.day)
  return year - birth.year - (birthdayPassed ? 0 : 1)
}

const DAY_MS = 86_400_000
/** Within ±100,000 years of the epoch; any event time is far inside. */
const MAX_CIVIL_MS = 100_000 * 365 * DAY_MS

/**
 * Year, month (1-12) and day of month of a day count since 1970-01-01 in the proleptic Gregorian
 * calendar (Howard Hinnant's days_from_civil inverse), as Date's UTC getters give them.
 * Example: civilFromDays(0) -> [1970, 1, 1]; civilFromDays(11_016) -> [2000, 2, 29]
 */
export function civilFromDays(days: number): [year: number, month: number, day: number] {
  const shifted = days + 719_468
  const era = Math.floor(shifted / 146_097)
  const dayOfEra = shifted - era * 146_097
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365)
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day]
}

interface BirthDate { readonly year: number; readonly month: number; readonly day: number }
/** The last date of birth parsed: a player's events repeat it, so the regular expression runs once per player and batch, not per bet. */
let lastParsed: { readonly text: string; readonly birth: BirthDate | null } = { text: '', birth: null }

function parseDateOfBirth(text: string): BirthDate | null {
  if (text === lastParsed.text) return lastParsed.birth
  const match = DATE.exec(text)
  const birth = match === null ? null : { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) }
  lastParsed = { text, birth }
  return birth
}

export const underage = defineDetector({
  id: 'underage',
  version: 1,
  description: 'player younger than the jurisdiction minimum age at the event time, from the KYC date of birth',
  accepts: ['player', 'deposit', 'bet', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['minimumAge', 'utcOffsetMinutes'],
    properties: {
      minimumAge: { type: 'integer', minimum: 0, maximum: 30 },
      utcOffsetMinutes: { type: 'integer', minimum: -12 * 60, maximum: 14 * 60 },
    },
  },
  init: (): UnderageState => ({ alertedDateOfBirth: null }),
  step(state: UnderageState, event, params: UnderageParams, context) {
    const isRequest = event.kind === 'withdrawal' && event.type === 'REQUESTED'
    if (event.kind === 'withdrawal' && !isRequest) return { state, observation: null }
    const { dateOfBirth } = context.profile
    const age = dateOfBirth === null ? null : ageInYears(dateOfBirth, event.eventTimeMs, params.utcOffsetMinutes)
    const hit = age !== null && age < params.minimumAge
    if (!isRequest && (!hit || state.alertedDateOfBirth === dateOfBirth)) return { state, observation: null }
    const observation: Observation = {
      hit,
      value: age,
      threshold: params.minimumAge,
      detail: age === null
        ? 'date of birth unknown; age not checked'
        : `age ${age} at the event time (born ${dateOfBirth}), minimum ${params.minimumAge}`,
      evidenceEventIds: [event.eventId],
      windowStartMs: null,
      windowEndMs: null,
    }
    return { state: hit ? { alertedDateOfBirth: dateOfBirth } : state, observation }
  },
})
