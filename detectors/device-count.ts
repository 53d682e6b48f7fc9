/**
 * device_count: many distinct device fingerprints for one player in a sliding event-time window
 * (shared or rented accounts, device farms, emulators resetting their fingerprint). Evaluated on
 * each device event (an alert when a device not yet seen in the window takes the count over the
 * limit; more logins from known devices add nothing) and on every withdrawal request.
 *
 * Worked example (maxDevices 3, windowMs 7 d): devices A, B, C on days 0, 1, 2 -> 3, no hit; A
 * again on day 3 -> nothing; D on day 4 -> 4 devices, hit (alert), value 4, threshold 3,
 * evidence the last login of each; a withdrawal on day 4 -> hit; a withdrawal on day 8.5 -> B
 * (last seen day 1) has left the window (day 1.5, day 8.5]: A, C, D remain, value 3, no hit.
 *
 * State is one entry per device (first and last sighting), not per login; see
 * `sightedInWindow` for the one case where that over-counts (a window ending before a device's
 * last sighting, only for out-of-order events).
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { formatDuration, isLate, isSightedInWindow, recordSighting, retainSightings, sightedInWindow, sightingWindowEnds, type Sighting } from './windows.js'

export interface DeviceCountState { readonly devices: readonly Sighting[] }
export interface DeviceCountParams {
  /** Hit when the distinct devices in the window are more than this. */
  readonly maxDevices: number
  readonly windowMs: number
  readonly graceMs: number
  /** Hard cap on the devices kept (most recently seen first); must exceed maxDevices. */
  readonly maxTrackedDevices: number
}

function observe(inWindow: readonly Sighting[], endMs: number, params: DeviceCountParams): Observation {
  return {
    hit: inWindow.length > params.maxDevices,
    value: inWindow.length,
    threshold: params.maxDevices,
    detail: `${inWindow.length} distinct devices in ${formatDuration(params.windowMs)}, limit ${params.maxDevices}`,
    evidenceEventIds: inWindow.map((device) => device.lastEventId),
    windowStartMs: endMs - params.windowMs,
    windowEndMs: endMs,
  }
}

export const deviceCount = defineDetector({
  id: 'device_count',
  version: 1,
  description: 'distinct device fingerprints per player in a sliding event-time window',
  accepts: ['device', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxDevices', 'windowMs', 'graceMs'],
    properties: {
      maxDevices: { type: 'integer', minimum: 1, maximum: 32 },
      windowMs: { type: 'integer', minimum: 1, maximum: 90 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      maxTrackedDevices: { type: 'integer', minimum: 33, maximum: 256, default: 64 },
    },
  },
  init: (): DeviceCountState => ({ devices: [] }),
  step(state: DeviceCountState, event, params: DeviceCountParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const retentionMs = params.windowMs + params.graceMs
    const at = event.eventTimeMs
    if (event.kind === 'device') {
      const known = isSightedInWindow(state.devices, event.deviceFingerprint, at, params.windowMs)
      const devices = retainSightings(recordSighting(state.devices, event.deviceFingerprint, at, event.eventId), context.streamTimeMs, retentionMs, params.maxTrackedDevices)
      if (late || known) return { state: devices === state.devices ? state : { devices }, observation: null, late }
      // An out-of-order login is also judged in the windows that already hold later devices.
      for (const endMs of sightingWindowEnds(devices, at, params.windowMs)) {
        const observation = observe(sightedInWindow(devices, endMs, params.windowMs), endMs, params)
        if (observation.hit) return { state: { devices }, observation, late }
      }
      return { state: { devices }, observation: null, late }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const devices = retainSightings(state.devices, context.streamTimeMs, retentionMs, params.maxTrackedDevices)
    return { state: devices === state.devices ? state : { devices }, observation: observe(sightedInWindow(devices, at, params.windowMs), at, params), late }
  },
})
