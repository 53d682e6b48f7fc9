/**
 * geo_mismatch: logins from a country other than the player's KYC country (`profile.country`),
 * counted in a sliding event-time window. Evaluated on each login (an alert when the count goes
 * over the limit) and on every withdrawal request (recorded in the decision, hit or not).
 *
 * Worked example (maxMismatchedLogins 2, windowMs 7 d, KYC country MT): logins from MT at day 0,
 * from IT at day 1 and day 2 -> 2 foreign logins, no hit; a login from DE at day 3 -> 3, hit
 * (alert); a withdrawal at day 3 + 1 h -> hit, value 3, threshold 2, evidence the three foreign
 * logins; a withdrawal at day 8 + 1 h sees the day-1 login expired -> value 2, no hit.
 *
 * Logins through a proxy, VPN or Tor are skipped by default (`ignoreAnonymised`): their country
 * is the exit node's, and anonymising_network judges them. Only foreign logins are kept (judged
 * against the KYC country when they arrive, all of them while it is unknown), so a player who
 * stays home costs no state; after a change of KYC country the count is re-judged against the
 * new one, but home logins of the old country are not recovered (they were not kept).
 * With no KYC country on file a withdrawal is recorded as no hit with value null.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { capLatest, formatDuration, insertByTime, isLate, retainRecent, slidingWindow, windowsContaining } from './windows.js'
import type { DeviceActivityType } from '../schemas/domain.js'

interface ForeignLogin { readonly eventId: string; readonly eventTimeMs: number; readonly country: string }
export interface GeoMismatchState { readonly logins: readonly ForeignLogin[] }
export interface GeoMismatchParams {
  /** Hit when the foreign logins in the window are more than this. */
  readonly maxMismatchedLogins: number
  readonly windowMs: number
  readonly graceMs: number
  /** Which device events count as a login (a SESSION_START right after a LOGIN would count twice). */
  readonly activityTypes: readonly DeviceActivityType[]
  readonly ignoreAnonymised: boolean
  /** Hard cap on the foreign logins kept (most recent first); must exceed maxMismatchedLogins. */
  readonly maxTrackedLogins: number
}

const mismatching = (logins: readonly ForeignLogin[], kycCountry: string): ForeignLogin[] => logins.filter((login) => login.country !== kycCountry)

function observe(inWindow: readonly ForeignLogin[], endMs: number, kycCountry: string, params: GeoMismatchParams): Observation {
  const countries = [...new Set(inWindow.map((login) => login.country))].sort()
  const from = countries.length === 0 ? '' : ` (${countries.join(', ')})`
  return {
    hit: inWindow.length > params.maxMismatchedLogins,
    value: inWindow.length,
    threshold: params.maxMismatchedLogins,
    detail: `${inWindow.length} logins from outside KYC country ${kycCountry} in ${formatDuration(params.windowMs)}${from}, limit ${params.maxMismatchedLogins}`,
    evidenceEventIds: inWindow.map((login) => login.eventId),
    windowStartMs: endMs - params.windowMs,
    windowEndMs: endMs,
  }
}

export const geoMismatch = defineDetector({
  id: 'geo_mismatch',
  version: 1,
  description: 'logins from a country other than the KYC country, counted in a sliding event-time window',
  accepts: ['device', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxMismatchedLogins', 'windowMs', 'graceMs'],
    properties: {
      maxMismatchedLogins: { type: 'integer', minimum: 0, maximum: 50 },
      windowMs: { type: 'integer', minimum: 1, maximum: 90 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      activityTypes: { type: 'array', items: { enum: ['LOGIN', 'SESSION_START', 'SESSION_END', 'UNKNOWN'] }, minItems: 1, uniqueItems: true, default: ['LOGIN'] },
      ignoreAnonymised: { type: 'boolean', default: true },
      maxTrackedLogins: { type: 'integer', minimum: 51, maximum: 1000, default: 100 },
    },
  },
  init: (): GeoMismatchState => ({ logins: [] }),
  step(state: GeoMismatchState, event, params: GeoMismatchParams, context) {
    const kycCountry = context.profile.country === null ? null : context.profile.country.toUpperCase()
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    if (event.kind === 'device') {
      const anonymised = event.isProxy || event.isVpn || event.isTor
      if (!params.activityTypes.includes(event.type) || event.ipCountry === null || (params.ignoreAnonymised && anonymised)) return { state, observation: null }
      const country = event.ipCountry.toUpperCase()
      const kept = retainRecent(state.logins, context.streamTimeMs, params.windowMs, params.graceMs)
      if (kycCountry === country) return { state: kept === state.logins ? state : { logins: kept }, observation: null, late }
      const logins = capLatest(insertByTime(kept, { eventId: event.eventId, eventTimeMs: event.eventTimeMs, country }), params.maxTrackedLogins)
      // A late login is kept for later withdrawals but raises nothing: its window has closed.
      if (kycCountry === null || late) return { state: { logins }, observation: null, late }
      const windows = windowsContaining(mismatching(logins, kycCountry), event.eventTimeMs, params.windowMs)
      const busiest = windows.reduce((best, window) => (window.items.length > best.items.length ? window : best))
      const observation = observe(busiest.items, busiest.endMs, kycCountry, params)
      return { state: { logins }, observation: observation.hit ? observation : null, late }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null }
    // A withdrawal is always evaluated (a decision is owed); if it is late, its window may miss pruned logins.
    const kept = retainRecent(state.logins, context.streamTimeMs, params.windowMs, params.graceMs)
    const next: GeoMismatchState = kept === state.logins ? state : { logins: kept }
    if (kycCountry === null) {
      const observation: Observation = {
        hit: false, value: null, threshold: params.maxMismatchedLogins, detail: 'no KYC country on file; logins not judged',
        evidenceEventIds: [], windowStartMs: event.eventTimeMs - params.windowMs, windowEndMs: event.eventTimeMs,
      }
      return { state: next, observation, late }
    }
    const inWindow = slidingWindow(mismatching(next.logins, kycCountry), event.eventTimeMs, params.windowMs)
    return { state: next, observation: observe(inWindow, event.eventTimeMs, kycCountry, params), late }
  },
})
