/**
 * anonymising_network: device events through a proxy, VPN or Tor exit (the operator's flags) or
 * from an autonomous system on the rule set's high-risk list (hosting and VPN-heavy networks:
 * a casino player's browser does not normally sit in a data centre). Counted in a sliding
 * event-time window; evaluated on each device event (an alert when the count goes over the
 * limit) and on every withdrawal request ("near the withdrawal": the last `lookbackMs`).
 *
 * Worked example (maxFlaggedLogins 0, lookbackMs 6 h, highRiskAsns [64511]): a clean login at
 * 10:00 -> nothing; a login over Tor at 11:00 -> count 1, hit (alert), value 1, threshold 0,
 * detail naming "tor"; a withdrawal at 12:00 -> hit, evidence the Tor login; a withdrawal at
 * 17:30 -> the Tor login is 6.5 h old, no hit (value 0). A login from AS64511 at 18:00 -> hit,
 * reason "asn 64511".
 *
 * Which flags count is a rule-set choice (`flagProxy`, `flagVpn`, `flagTor`): some markets
 * treat a consumer VPN as routine and only Tor or hosting ASNs as a stop.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { capLatest, formatDuration, insertByTime, isLate, retainRecent, slidingWindow, windowsContaining } from './windows.js'
import type { DeviceEvent } from '../schemas/domain.js'

interface FlaggedLogin { readonly eventId: string; readonly eventTimeMs: number; readonly reasons: readonly string[] }
export interface AnonymisingNetworkState { readonly flagged: readonly FlaggedLogin[] }
export interface AnonymisingNetworkParams {
  /** Hit when the flagged device events in the window are more than this (0: any one). */
  readonly maxFlaggedLogins: number
  readonly lookbackMs: number
  readonly graceMs: number
  readonly flagProxy: boolean
  readonly flagVpn: boolean
  readonly flagTor: boolean
  /** Autonomous system numbers whose addresses are treated as anonymising. */
  readonly highRiskAsns: readonly number[]
  readonly maxTrackedLogins: number
}

/** Why a device event counts as anonymised under these params; empty when it does not. */
export function anonymisingReasons(event: Pick<DeviceEvent, 'isProxy' | 'isVpn' | 'isTor' | 'asn'>, params: AnonymisingNetworkParams): string[] {
  const reasons: string[] = []
  if (params.flagTor && event.isTor) reasons.push('tor')
  if (params.flagVpn && event.isVpn) reasons.push('vpn')
  if (params.flagProxy && event.isProxy) reasons.push('proxy')
  if (event.asn !== null && params.highRiskAsns.includes(event.asn)) reasons.push(`asn ${event.asn}`)
  return reasons
}

function observe(inWindow: readonly FlaggedLogin[], endMs: number, params: AnonymisingNetworkParams): Observation {
  const reasons = [...new Set(inWindow.flatMap((login) => login.reasons))]
  const why = reasons.length === 0 ? '' : ` (${reasons.join(', ')})`
  return {
    hit: inWindow.length > params.maxFlaggedLogins,
    value: inWindow.length,
    threshold: params.maxFlaggedLogins,
    detail: `${inWindow.length} logins through an anonymising network in ${formatDuration(params.lookbackMs)}${why}, limit ${params.maxFlaggedLogins}`,
    evidenceEventIds: inWindow.map((login) => login.eventId),
    windowStartMs: endMs - params.lookbackMs,
    windowEndMs: endMs,
  }
}

export const anonymisingNetwork = defineDetector({
  id: 'anonymising_network',
  version: 1,
  description: 'logins through proxy, VPN, Tor or a high-risk ASN, at login and near a withdrawal',
  accepts: ['device', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxFlaggedLogins', 'lookbackMs', 'graceMs', 'highRiskAsns'],
    properties: {
      maxFlaggedLogins: { type: 'integer', minimum: 0, maximum: 50 },
      lookbackMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      flagProxy: { type: 'boolean', default: true },
      flagVpn: { type: 'boolean', default: true },
      flagTor: { type: 'boolean', default: true },
      highRiskAsns: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 4_294_967_295 }, uniqueItems: true, maxItems: 10_000 },
      maxTrackedLogins: { type: 'integer', minimum: 51, maximum: 1000, default: 100 },
    },
  },
  init: (): AnonymisingNetworkState => ({ flagged: [] }),
  step(state: AnonymisingNetworkState, event, params: AnonymisingNetworkParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const kept = retainRecent(state.flagged, context.streamTimeMs, params.lookbackMs, params.graceMs)
    if (event.kind === 'device') {
      const reasons = anonymisingReasons(event, params)
      if (reasons.length === 0) return { state: kept === state.flagged ? state : { flagged: kept }, observation: null, late }
      const flagged = capLatest(insertByTime(kept, { eventId: event.eventId, eventTimeMs: event.eventTimeMs, reasons }), params.maxTrackedLogins)
      if (late) return { state: { flagged }, observation: null, late }
      const windows = windowsContaining(flagged, event.eventTimeMs, params.lookbackMs)
      const busiest = windows.reduce((best, window) => (window.items.length > best.items.length ? window : best))
      const observation = observe(busiest.items, busiest.endMs, params)
      return { state: { flagged }, observation: observation.hit ? observation : null, late }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null }
    return { state: kept === state.flagged ? state : { flagged: kept }, observation: observe(slidingWindow(kept, event.eventTimeMs, params.lookbackMs), event.eventTimeMs, params), late }
  },
})
