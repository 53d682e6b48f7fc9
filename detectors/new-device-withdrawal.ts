/**
 * new_device_withdrawal: a withdrawal requested shortly after the first login from a device
 * fingerprint never seen before for this player (account takeover cashes out from the
 * attacker's device). Device events only update the player's known devices; the detector
 * speaks at withdrawal requests, recorded hit or not.
 *
 * Worked example (withinMs 24 h, ignoreFirstDevice true): device A first seen on day 0 (the
 * player's first: never "new"); device B first seen on day 10 at 12:00; a withdrawal on day 10
 * at 12:40 -> hit, value 2400000 (40 min in ms since B's first login), threshold 86400000,
 * evidence B's first login; a withdrawal on day 11 at 13:00 -> B is 25 h old, no hit.
 *
 * The value is the time from the newest device's first login to the withdrawal; a hit means it
 * is less than `withinMs` (the window (t - withinMs, t], like every sliding window). A player's
 * very first device is not new when `ignoreFirstDevice` is set (otherwise every fresh account's
 * first withdrawal would hit).
 * Devices are remembered for `deviceMemoryMs` after they were last seen; one unseen for longer
 * is new again when it comes back. A late device event can move a first sighting earlier.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { formatDuration, isLate, recordSighting, retainSightings, type Sighting } from './windows.js'

export interface NewDeviceWithdrawalState { readonly devices: readonly Sighting[] }
export interface NewDeviceWithdrawalParams {
  /** Hit when a new device's first login is less than this long before the withdrawal. */
  readonly withinMs: number
  /** How long a device is remembered after it was last seen. */
  readonly deviceMemoryMs: number
  readonly ignoreFirstDevice: boolean
  readonly graceMs: number
  readonly maxTrackedDevices: number
}

export const newDeviceWithdrawal = defineDetector({
  id: 'new_device_withdrawal',
  version: 1,
  description: 'withdrawal requested shortly after the first login from a device never seen for this player',
  accepts: ['device', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['withinMs', 'deviceMemoryMs', 'graceMs'],
    properties: {
      withinMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
      deviceMemoryMs: { type: 'integer', minimum: DAY_MS, maximum: 730 * DAY_MS },
      ignoreFirstDevice: { type: 'boolean', default: true },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      maxTrackedDevices: { type: 'integer', minimum: 2, maximum: 1000, default: 50 },
    },
  },
  init: (): NewDeviceWithdrawalState => ({ devices: [] }),
  step(state: NewDeviceWithdrawalState, event, params: NewDeviceWithdrawalParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    if (event.kind === 'device') {
      const recorded = recordSighting(state.devices, event.deviceFingerprint, event.eventTimeMs, event.eventId)
      const devices = retainSightings(recorded, context.streamTimeMs, params.deviceMemoryMs, params.maxTrackedDevices)
      return { state: devices === state.devices ? state : { devices }, observation: null, late }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const requestedAtMs = event.eventTimeMs
    const devices = retainSightings(state.devices, context.streamTimeMs, params.deviceMemoryMs, params.maxTrackedDevices)
    const known = devices.filter((device) => device.firstSeenMs <= requestedAtMs)
    const earliestFirstSeenMs = Math.min(...known.map((device) => device.firstSeenMs))
    const fresh = known
      .filter((device) => device.firstSeenMs > requestedAtMs - params.withinMs)
      .filter((device) => !params.ignoreFirstDevice || device.firstSeenMs > earliestFirstSeenMs)
    const newest = fresh.reduce<Sighting | null>((best, device) => (best === null || device.firstSeenMs > best.firstSeenMs ? device : best), null)
    const window = formatDuration(params.withinMs)
    const observation: Observation = newest === null
      ? {
          hit: false, value: null, threshold: params.withinMs,
          detail: `no new device in the ${window} before the withdrawal (${known.length} known)`,
          evidenceEventIds: [], windowStartMs: requestedAtMs - params.withinMs, windowEndMs: requestedAtMs,
        }
      : {
          hit: true, value: requestedAtMs - newest.firstSeenMs, threshold: params.withinMs,
          detail: `withdrawal ${formatDuration(requestedAtMs - newest.firstSeenMs)} after the first login from new device ${newest.key} (${fresh.length} new, ${known.length} known), limit ${window}`,
          evidenceEventIds: fresh.map((device) => device.firstEventId),
          windowStartMs: requestedAtMs - params.withinMs, windowEndMs: requestedAtMs,
        }
    return { state: devices === state.devices ? state : { devices }, observation, late }
  },
})
