/**
 * impossible_travel: two consecutive logins (in event time) from countries too far apart for the
 * time between them. Distance is the great-circle (haversine) distance between the countries'
 * representative points (detectors/data/country-centroids.json, ~140 countries, source in the
 * file); a leg is impossible when it is at least `minDistanceKm` long and needs more than
 * `maxSpeedKmh`. Evaluated on each login (an alert for an impossible leg to its neighbour before
 * or after it) and on every withdrawal request (the fastest leg among the logins of the last
 * `lookbackMs`, recorded hit or not).
 *
 * Worked example (maxSpeedKmh 1000, minDistanceKm 1000): a login from MT at 10:00 and from GB
 * at 14:00 -> 2550 km in 4 h = 638 km/h, no hit; then from AU at 16:00 -> GB to AU 15206 km in
 * 2 h = 7603 km/h, hit (alert), value 7603, threshold 1000, evidence the GB and AU logins; a
 * withdrawal at 16:30 -> the same leg, hit. MT then IT ten minutes apart (678 km) is never a
 * hit: shorter than minDistanceKm, because a centroid is not where a neighbour-country trip starts.
 *
 * Skipped logins: unknown or unlisted country (cannot be placed) and, by default, proxy/VPN/Tor
 * (the country is the exit node's; anonymising_network judges those). Two logins in the same
 * millisecond count as one second apart, so the speed stays finite. A run of logins from one
 * country is kept as its first and last login (see `addLogin`); an out-of-order login landing
 * inside such a run is paired with those two, so its legs can look slower than they were.
 */
import centroidData from './data/country-centroids.json' with { type: 'json' }
import { DAY_MS, HOUR_MS, defineDetector, type Observation } from './detector.js'
import { capLatest, formatDuration, insertRecent, isLate, retainRecent, slidingWindow } from './windows.js'

/** Mean Earth radius (IUGG), km. */
const EARTH_RADIUS_KM = 6371.0088
/** Shortest time a leg is taken to last: event times are milliseconds, travel is not instant. */
const MIN_LEG_MS = 1000

const CENTROIDS: ReadonlyMap<string, readonly [number, number]> = new Map(
  Object.entries(centroidData.centroids).map(([country, point]) => [country, [point[0] as number, point[1] as number] as const]),
)

/** Great-circle distance between two points given as [latitude, longitude] in degrees. */
export function haversineKm(from: readonly [number, number], to: readonly [number, number]): number {
  const radians = Math.PI / 180
  const deltaLatitude = (to[0] - from[0]) * radians
  const deltaLongitude = (to[1] - from[1]) * radians
  const a = Math.sin(deltaLatitude / 2) ** 2 + Math.cos(from[0] * radians) * Math.cos(to[0] * radians) * Math.sin(deltaLongitude / 2) ** 2
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)))
}

/** Distance between two countries' representative points (ISO 3166-1 alpha-2), or null when one is not in the table. */
export function countryDistanceKm(fromCountry: string, toCountry: string): number | null {
  const from = CENTROIDS.get(fromCountry.toUpperCase())
  const to = CENTROIDS.get(toCountry.toUpperCase())
  return from === undefined || to === undefined ? null : haversineKm(from, to)
}

interface PlacedLogin { readonly eventId: string; readonly eventTimeMs: number; readonly country: string }
export interface ImpossibleTravelState { readonly logins: readonly PlacedLogin[] }
export interface ImpossibleTravelParams {
  /** Hit when a leg needs more than this speed. */
  readonly maxSpeedKmh: number
  /** Legs shorter than this are never a hit (neighbouring countries, centroid error). */
  readonly minDistanceKm: number
  /** How far back logins are paired; beyond ~22 h any two places on Earth are reachable by air. */
  readonly lookbackMs: number
  readonly graceMs: number
  readonly ignoreAnonymised: boolean
  readonly maxTrackedLogins: number
}

interface Leg { readonly from: PlacedLogin; readonly to: PlacedLogin; readonly distanceKm: number; readonly speedKmh: number }

function legOf(from: PlacedLogin, to: PlacedLogin): Leg {
  const distanceKm = from.country === to.country ? 0 : (countryDistanceKm(from.country, to.country) ?? 0)
  const elapsedMs = Math.max(Math.abs(to.eventTimeMs - from.eventTimeMs), MIN_LEG_MS)
  return { from, to, distanceKm, speedKmh: distanceKm / (elapsedMs / HOUR_MS) }
}

/** A leg long enough to judge: shorter ones are neighbouring countries or centroid error. */
const qualifies = (leg: Leg, params: ImpossibleTravelParams): boolean => leg.distanceKm >= params.minDistanceKm

/**
 * Adds a login in event-time order. A run of in-order logins from one country keeps only its
 * first and last: only those can pair with a login from elsewhere, and a player who stays home
 * then costs two entries however often they log in.
 */
function addLogin(logins: readonly PlacedLogin[], login: PlacedLogin, streamTimeMs: number, params: ImpossibleTravelParams): readonly PlacedLogin[] {
  const last = logins[logins.length - 1]
  const beforeLast = logins[logins.length - 2]
  if (last !== undefined && beforeLast !== undefined && login.eventTimeMs >= last.eventTimeMs && last.country === login.country && beforeLast.country === login.country) {
    const replaced = logins.slice()
    replaced[replaced.length - 1] = login
    return capLatest(retainRecent(replaced, streamTimeMs, params.lookbackMs, params.graceMs), params.maxTrackedLogins)
  }
  // Then the oldest that no lookback within grace can reach are dropped, and the newest kept.
  return insertRecent(logins, login, streamTimeMs, params.lookbackMs, params.graceMs, params.maxTrackedLogins)
}

/** A leg to judge on a login: within the lookback and long enough. */
const judged = (leg: Leg, params: ImpossibleTravelParams): boolean => leg.to.eventTimeMs - leg.from.eventTimeMs <= params.lookbackMs && qualifies(leg, params)

const fastest = (legs: readonly Leg[]): Leg | null => legs.reduce<Leg | null>((best, leg) => (best === null || leg.speedKmh > best.speedKmh ? leg : best), null)

function observeLeg(leg: Leg, params: ImpossibleTravelParams, windowStartMs: number, windowEndMs: number): Observation {
  const speedKmh = Math.round(leg.speedKmh)
  return {
    hit: leg.speedKmh > params.maxSpeedKmh,
    value: speedKmh,
    threshold: params.maxSpeedKmh,
    detail: `${leg.from.country} to ${leg.to.country}: ${Math.round(leg.distanceKm)} km in ${formatDuration(leg.to.eventTimeMs - leg.from.eventTimeMs)} = ${speedKmh} km/h, limit ${params.maxSpeedKmh} km/h`,
    evidenceEventIds: [leg.from.eventId, leg.to.eventId],
    windowStartMs,
    windowEndMs,
  }
}

export const impossibleTravel = defineDetector({
  id: 'impossible_travel',
  version: 1,
  description: 'consecutive logins from countries too far apart for the time between them (haversine between country centroids)',
  accepts: ['device', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxSpeedKmh', 'minDistanceKm', 'lookbackMs', 'graceMs'],
    properties: {
      maxSpeedKmh: { type: 'integer', minimum: 1, maximum: 100_000 },
      minDistanceKm: { type: 'integer', minimum: 0, maximum: 20_100 },
      lookbackMs: { type: 'integer', minimum: 1, maximum: 7 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      ignoreAnonymised: { type: 'boolean', default: true },
      maxTrackedLogins: { type: 'integer', minimum: 2, maximum: 1000, default: 100 },
    },
  },
  init: (): ImpossibleTravelState => ({ logins: [] }),
  step(state: ImpossibleTravelState, event, params: ImpossibleTravelParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    if (event.kind === 'device') {
      const anonymised = event.isProxy || event.isVpn || event.isTor
      const country = event.ipCountry?.toUpperCase() ?? null
      if (country === null || !CENTROIDS.has(country) || (params.ignoreAnonymised && anonymised)) return { state, observation: null }
      const login: PlacedLogin = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, country }
      const logins = addLogin(state.logins, login, context.streamTimeMs, params)
      if (late) return { state: { logins }, observation: null, late }
      // Pair with the neighbours in event time: an out-of-order login sits between two others.
      const index = logins.findIndex((other) => other.eventId === login.eventId)
      const before = logins[index - 1]
      const after = logins[index + 1]
      // The faster of the two legs judged (the earlier one on a tie), without lists.
      const legBefore = before === undefined ? null : legOf(before, login)
      const legAfter = after === undefined ? null : legOf(login, after)
      let leg = legBefore !== null && judged(legBefore, params) ? legBefore : null
      if (legAfter !== null && judged(legAfter, params) && (leg === null || legAfter.speedKmh > leg.speedKmh)) leg = legAfter
      if (leg === null || leg.speedKmh <= params.maxSpeedKmh) return { state: { logins }, observation: null, late }
      return { state: { logins }, observation: observeLeg(leg, params, leg.from.eventTimeMs, leg.to.eventTimeMs), late }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const logins = retainRecent(state.logins, context.streamTimeMs, params.lookbackMs, params.graceMs)
    const next = logins === state.logins ? state : { logins }
    const windowStartMs = event.eventTimeMs - params.lookbackMs
    const recent = slidingWindow(logins, event.eventTimeMs, params.lookbackMs)
    const leg = fastest(recent.slice(1).map((to, index) => legOf(recent[index] as PlacedLogin, to)).filter((leg) => qualifies(leg, params)))
    const observation: Observation = leg === null
      ? {
          hit: false, value: null, threshold: params.maxSpeedKmh, detail: `no two logins ${params.minDistanceKm} km or more apart in ${formatDuration(params.lookbackMs)}`,
          evidenceEventIds: [], windowStartMs, windowEndMs: event.eventTimeMs,
        }
      : observeLeg(leg, params, windowStartMs, event.eventTimeMs)
    return { state: next, observation, late }
  },
})
