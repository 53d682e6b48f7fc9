/**
 * ip_asn_jump: a player's logins hopping across many networks: more distinct autonomous systems
 * (ASNs) or more distinct IP blocks (IPv4 /24, IPv6 /48 by default) than the limits in a sliding
 * event-time window. Evaluated on each device event (an alert when a network not yet seen in
 * the window takes a count over its limit) and on every withdrawal request (hit or not).
 *
 * Worked example (maxDistinctAsns 3, maxDistinctIpBlocks 4, windowMs 24 h): logins from
 * 198.51.100.7 (AS64500), 198.51.100.9 (AS64500), 203.0.113.5 (AS64501), 192.0.2.1 (AS64502)
 * -> 3 ASNs, 3 blocks, no hit; a login from 100.64.3.3 (AS64503) -> 4 ASNs, hit (alert), value
 * 4, threshold 3; a withdrawal an hour later -> hit, value 4. Home broadband plus a mobile
 * carrier is two ASNs; many more in a day is a proxy pool, a shared account or a bot.
 *
 * State is one entry per distinct ASN and block (first and last sighting), not per login; the
 * count for a window that ends before a network's last sighting can over-count a network seen
 * only on both sides of it (see `sightedInWindow`). An IP that is not valid IPv4 or IPv6 counts
 * as its own block.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { formatDuration, isLate, isSightedInWindow, recordSighting, retainSightings, sightedInWindow, sightingWindowEnds, type Sighting } from './windows.js'

/**
 * The network block of an IP address as text: IPv4 masked to `ipv4PrefixBits`, IPv6 to
 * `ipv6PrefixBits` (IPv4-mapped IPv6 counts as IPv4); null when the text is neither.
 * Example: ipBlockOf('198.51.100.7', 24, 48) -> '198.51.100.0/24';
 *          ipBlockOf('2001:db8:12:34::1', 24, 48) -> '2001:db8:12::/48'.
 */
export function ipBlockOf(ip: string, ipv4PrefixBits: number, ipv6PrefixBits: number): string | null {
  const text = ip.trim().toLowerCase()
  const ipv4 = parseIpv4(text)
  if (ipv4 !== null) return `${formatIpv4(maskIpv4(ipv4, ipv4PrefixBits))}/${ipv4PrefixBits}`
  const ipv6 = parseIpv6(text)
  if (ipv6 === null) return null
  // ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket.
  const mapped = ipv6.slice(0, 5).every((group) => group === 0) && ipv6[5] === 0xffff
  if (mapped) return `${formatIpv4(maskIpv4((((ipv6[6] as number) << 16) | (ipv6[7] as number)) >>> 0, ipv4PrefixBits))}/${ipv4PrefixBits}`
  const masked = ipv6.map((group, index) => {
    const keep = Math.max(0, Math.min(16, ipv6PrefixBits - index * 16))
    return keep === 0 ? 0 : group & ((0xffff << (16 - keep)) & 0xffff)
  })
  return `${formatIpv6(masked)}/${ipv6PrefixBits}`
}

/** Dotted-quad IPv4 (1-3 digits per octet, each <= 255) as a 32-bit number, or null. A character scan: this runs on every login. */
function parseIpv4(text: string): number | null {
  let value = 0
  let octet = 0
  let digits = 0
  let dots = 0
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index)
    if (code >= 48 && code <= 57) {
      if (digits === 3) return null
      octet = octet * 10 + (code - 48)
      digits += 1
    } else if (code === 46 && digits > 0 && dots < 3) {
      if (octet > 255) return null
      value = value * 256 + octet
      octet = 0
      digits = 0
      dots += 1
    } else {
      return null
    }
  }
  if (dots !== 3 || digits === 0 || octet > 255) return null
  return value * 256 + octet
}

const maskIpv4 = (value: number, prefixBits: number): number => (prefixBits === 0 ? 0 : (value & (0xffffffff << (32 - prefixBits))) >>> 0)
const formatIpv4 = (value: number): string => `${(value >>> 24) & 0xff}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`

/** Eight 16-bit groups, or null. Accepts `::` compression, a zone (`%eth0`) and a dotted IPv4 tail. */
function parseIpv6(text: string): number[] | null {
  const address = text.split('%')[0] as string
  if (!address.includes(':') || address.split('::').length > 2) return null
  const toGroups = (part: string): number[] | null => {
    if (part === '') return []
    const groups: number[] = []
    const pieces = part.split(':')
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes('.')) {
        const ipv4 = parseIpv4(piece)
        if (ipv4 === null) return null
        groups.push(ipv4 >>> 16, ipv4 & 0xffff)
      } else if (/^[0-9a-f]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16))
      } else {
        return null
      }
    }
    return groups
  }
  const [head, tail] = address.split('::') as [string, string | undefined]
  const headGroups = toGroups(head)
  const tailGroups = tail === undefined ? [] : toGroups(tail)
  if (headGroups === null || tailGroups === null) return null
  if (tail === undefined) return headGroups.length === 8 ? headGroups : null
  const missing = 8 - headGroups.length - tailGroups.length
  return missing < 1 ? null : [...headGroups, ...new Array<number>(missing).fill(0), ...tailGroups]
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run (2+) of zero groups as `::`. */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1
  let bestLength = 0
  for (let start = 0; start < groups.length; start += 1) {
    let length = 0
    while (start + length < groups.length && groups[start + length] === 0) length += 1
    if (length > bestLength && length >= 2) {
      bestStart = start
      bestLength = length
    }
  }
  const hex = groups.map((group) => group.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

export interface IpAsnJumpState {
  readonly asns: readonly Sighting[]
  readonly ipBlocks: readonly Sighting[]
}
export interface IpAsnJumpParams {
  /** Hit when the distinct ASNs in the window are more than this; null = not counted. */
  readonly maxDistinctAsns: number | null
  /** Hit when the distinct IP blocks in the window are more than this; null = not counted. */
  readonly maxDistinctIpBlocks: number | null
  readonly windowMs: number
  readonly graceMs: number
  readonly ipv4PrefixBits: number
  readonly ipv6PrefixBits: number
  /** Hard cap on the ASNs and on the blocks kept (most recently seen first); must exceed both limits. */
  readonly maxTrackedKeys: number
}

/** The state itself when neither list changed (a login from known networks inside their span), else a new one. */
function unchangedOr(state: IpAsnJumpState, asns: readonly Sighting[], ipBlocks: readonly Sighting[]): IpAsnJumpState {
  return asns === state.asns && ipBlocks === state.ipBlocks ? state : { asns, ipBlocks }
}

function observe(asns: readonly Sighting[], blocks: readonly Sighting[], endMs: number, params: IpAsnJumpParams): Observation {
  const asnHit = params.maxDistinctAsns !== null && asns.length > params.maxDistinctAsns
  const blockHit = params.maxDistinctIpBlocks !== null && blocks.length > params.maxDistinctIpBlocks
  // The ASN count leads (a new ASN is a new network operator); blocks when only they hit or ASNs are not counted.
  const byBlocks = (blockHit && !asnHit) || params.maxDistinctAsns === null
  const window = formatDuration(params.windowMs)
  const limits = `limits ${params.maxDistinctAsns ?? 'none'} ASNs, ${params.maxDistinctIpBlocks ?? 'none'} blocks`
  const evidence = (byBlocks ? blocks : asns).map((sighting) => sighting.lastEventId)
  return {
    hit: asnHit || blockHit,
    value: byBlocks ? blocks.length : asns.length,
    threshold: byBlocks ? params.maxDistinctIpBlocks : params.maxDistinctAsns,
    detail: `${asns.length} distinct ASNs and ${blocks.length} distinct IP blocks in ${window}, ${limits}`,
    evidenceEventIds: [...new Set(evidence)],
    windowStartMs: endMs - params.windowMs,
    windowEndMs: endMs,
  }
}

export const ipAsnJump = defineDetector({
  id: 'ip_asn_jump',
  version: 1,
  description: 'many distinct ASNs or IP blocks per player in a sliding event-time window',
  accepts: ['device', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxDistinctAsns', 'maxDistinctIpBlocks', 'windowMs', 'graceMs'],
    properties: {
      maxDistinctAsns: { type: ['integer', 'null'], minimum: 1, maximum: 32 },
      maxDistinctIpBlocks: { type: ['integer', 'null'], minimum: 1, maximum: 32 },
      windowMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      ipv4PrefixBits: { type: 'integer', minimum: 8, maximum: 32, default: 24 },
      ipv6PrefixBits: { type: 'integer', minimum: 16, maximum: 128, default: 48 },
      maxTrackedKeys: { type: 'integer', minimum: 33, maximum: 256, default: 64 },
    },
  },
  init: (): IpAsnJumpState => ({ asns: [], ipBlocks: [] }),
  step(state: IpAsnJumpState, event, params: IpAsnJumpParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const retentionMs = params.windowMs + params.graceMs
    const at = event.eventTimeMs
    if (event.kind === 'device') {
      const asnKey = event.asn === null ? null : `AS${event.asn}`
      const blockKey = ipBlockOf(event.ip, params.ipv4PrefixBits, params.ipv6PrefixBits) ?? event.ip
      const newNetwork = (asnKey !== null && !isSightedInWindow(state.asns, asnKey, at, params.windowMs)) || !isSightedInWindow(state.ipBlocks, blockKey, at, params.windowMs)
      const next = unchangedOr(
        state,
        retainSightings(asnKey === null ? state.asns : recordSighting(state.asns, asnKey, at, event.eventId), context.streamTimeMs, retentionMs, params.maxTrackedKeys),
        retainSightings(recordSighting(state.ipBlocks, blockKey, at, event.eventId), context.streamTimeMs, retentionMs, params.maxTrackedKeys),
      )
      // Only a network new to the window raises an alert: more logins from known networks add nothing.
      if (late || !newNetwork) return { state: next, observation: null, late }
      // An out-of-order login is also judged in the windows that already hold later networks.
      const ends = [...new Set([...sightingWindowEnds(next.asns, at, params.windowMs), ...sightingWindowEnds(next.ipBlocks, at, params.windowMs)])].sort((a, b) => a - b)
      for (const endMs of ends) {
        const observation = observe(sightedInWindow(next.asns, endMs, params.windowMs), sightedInWindow(next.ipBlocks, endMs, params.windowMs), endMs, params)
        if (observation.hit) return { state: next, observation, late }
      }
      return { state: next, observation: null, late }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const next = unchangedOr(state, retainSightings(state.asns, context.streamTimeMs, retentionMs, params.maxTrackedKeys), retainSightings(state.ipBlocks, context.streamTimeMs, retentionMs, params.maxTrackedKeys))
    return { state: next, observation: observe(sightedInWindow(next.asns, at, params.windowMs), sightedInWindow(next.ipBlocks, at, params.windowMs), at, params), late }
  },
})
