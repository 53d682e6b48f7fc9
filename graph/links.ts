/**
 * Link records (`risk.links.v1`): the engine's input events re-keyed for the graph worker.
 *
 * `linksFor(event)` is pure: one input event in, the records to publish out, each with the
 * event's time and a deterministic `linkId` (`${eventId}:${n}`), so a replayed event publishes
 * byte-identical records. The engine produces them keyed by `linkKeyOf(record)`; the graph
 * worker turns each back into one LinkGraph call with `applyLinkRecord`.
 *
 * | input event | records |
 * | --- | --- |
 * | device (login, session) | LINK DEVICE fingerprint; LINK IP_BLOCK (/24 for IPv4, /48 for IPv6) unless the IP is a proxy, VPN or Tor exit |
 * | deposit, withdrawal | LINK CARD (card, prepaid: instrument token) or WALLET (crypto: wallet address, else token; e-wallet, bank, other: token) |
 * | deposit CHARGEBACK | also FLAGS chargedBack |
 * | deposit COMPLETED with a bonus | also FLAGS bonusClaimed |
 * | player | LINK EMAIL / PHONE hash, LINK REFERRER (the referrer's player id); FLAGS from `profile` when given |
 * | transfer | TRANSFER (transferId, to, amount, currency); none to oneself |
 * | bet SETTLED with a table and round | BET (betId, table, round, side in lower case, stake, net result) |
 * | anything else (placed bets, reviews, payouts) | none |
 *
 * linksFor itself repeats a LINK on every event that carries it; the engine drops a LINK the
 * player published less than 24 h of event time before (pipelines/processor.ts, LINK_REFRESH_MS).
 *
 * Example:
 *   linksFor({ kind: 'device', eventId: 'dv-1', playerId: 'p1', eventTimeMs: 1_000, deviceFingerprint: 'fp:9a', ip: '203.0.113.9', isProxy: false, isVpn: false, isTor: false, ... })
 *   // [{ linkId: 'dv-1:0', kind: 'LINK', identifierType: 'DEVICE', identifier: 'fp:9a', ... },
 *   //  { linkId: 'dv-1:1', kind: 'LINK', identifierType: 'IP_BLOCK', identifier: '203.0.113.0/24', ... }]
 *   linkKeyOf(records[1])  // 'ip_block:203.0.113.0/24'
 */
import { RiskError } from '../core/errors.js'
import type { DepositEvent, InputEvent, PaymentMethod, WithdrawalEvent } from '../schemas/domain.js'
import type { LinkIdentifierType, LinkKind, LinkRecord } from '../schemas/generated/types.js'
import type { LinkGraph } from './link-graph.js'
import type { IdentifierType, PlayerFlags } from './types.js'

export type { LinkRecord } from '../schemas/generated/types.js'

/**
 * What the engine knows about the player beyond the event (a sanctions match from screening, an
 * officer's flag). Sent as a FLAGS record with each player event, where screening runs; an
 * absent flag leaves the graph's value as it was.
 */
export interface LinkProfile {
  readonly sanctioned?: boolean
  readonly flagged?: boolean
}

/** Graph identifier type of each wire symbol (UNKNOWN has none: such a record is refused). */
const GRAPH_IDENTIFIER_TYPE: Readonly<Record<Exclude<LinkIdentifierType, 'UNKNOWN'>, IdentifierType>> = {
  DEVICE: 'device', CARD: 'card', WALLET: 'wallet', IP_BLOCK: 'ip_block', EMAIL: 'email', PHONE: 'phone', REFERRER: 'referrer',
}

/** Side of a bet without one: never one of the opposing pairs, so it only counts for chip flow. */
export const NO_SIDE = 'none'

/** A record with every optional field null; each kind fills in its own. */
function baseRecord(event: InputEvent, position: number, kind: LinkKind): LinkRecord {
  return {
    linkId: `${event.eventId}:${position}`, kind, playerId: event.playerId, eventTimeMs: event.eventTimeMs, sourceEventId: event.eventId,
    identifierType: null, identifier: null, transferId: null, toPlayerId: null, amountMinor: null, resultMinor: null, currency: null,
    betId: null, tableId: null, roundId: null, side: null, flagged: null, sanctioned: null, chargedBack: null, bonusClaimed: null,
  }
}

/**
 * The IP block an address belongs to: `a.b.c.0/24` for IPv4 (IPv4-mapped IPv6 included),
 * `x:y:z::/48` for IPv6 (lower case, no leading zeros); null when the text is not an address.
 * Example: ipBlockOf('2001:DB8:0a:1::7') -> '2001:db8:a::/48'
 */
export function ipBlockOf(ip: string): string | null {
  const text = ip.trim().replace(/%.*$/, '') // a zone id (fe80::1%eth0) names the interface, not the network
  const v4 = ipv4Octets(text)
  if (v4 !== null) return `${v4[0]}.${v4[1]}.${v4[2]}.0/24`
  const groups = ipv6Groups(text)
  if (groups === null) return null
  // ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket: block it as IPv4.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.0/24`
  }
  return `${groups.slice(0, 3).map((group) => group.toString(16)).join(':')}::/48`
}

function ipv4Octets(text: string): number[] | null {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return null
  return parts.map(Number)
}

function ipv6Groups(text: string): number[] | null {
  if (!text.includes(':')) return null
  let head = text
  const tail: number[] = []
  const embedded = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (embedded !== null) {
    const octets = ipv4Octets(embedded[2] as string)
    if (octets === null) return null
    head = `${embedded[1] as string}0:0` // placeholder groups, replaced below
    tail.push(((octets[0] as number) << 8) | (octets[1] as number), ((octets[2] as number) << 8) | (octets[3] as number))
  }
  const halves = head.split('::')
  if (halves.length > 2) return null
  const parse = (part: string): number[] | null => {
    if (part === '') return []
    const groups = part.split(':')
    if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return null
    return groups.map((group) => parseInt(group, 16))
  }
  const left = parse(halves[0] as string)
  const right = halves.length === 2 ? parse(halves[1] as string) : []
  if (left === null || right === null) return null
  const missing = 8 - left.length - right.length
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return null
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right]
  if (tail.length === 2) groups.splice(6, 2, ...tail)
  return groups
}

/** The identifier an instrument links by: cards by token, crypto by wallet address, the rest as wallets by token. */
function instrumentLink(method: PaymentMethod, instrument: DepositEvent['instrument']): { type: LinkIdentifierType; identifier: string } | null {
  switch (method) {
    case 'CARD': case 'PREPAID': return instrument.token === '' ? null : { type: 'CARD', identifier: instrument.token }
    case 'CRYPTO': {
      const address = instrument.walletAddress ?? instrument.token
      return address === '' ? null : { type: 'WALLET', identifier: address }
    }
    default: return instrument.token === '' ? null : { type: 'WALLET', identifier: instrument.token }
  }
}

// Module functions, not closures inside linksFor: under tsx (esbuild keepNames) every named
// closure costs a __name() call each time it is created, and linksFor runs on every event.
function pushLink(records: LinkRecord[], event: InputEvent, identifierType: LinkIdentifierType, identifier: string | null): void {
  if (identifier === null || identifier === '') return
  records.push({ ...baseRecord(event, records.length, 'LINK'), identifierType, identifier })
}

function pushFlags(records: LinkRecord[], event: InputEvent, values: Pick<LinkRecord, 'flagged' | 'sanctioned' | 'chargedBack' | 'bonusClaimed'>): void {
  records.push({ ...baseRecord(event, records.length, 'FLAGS'), ...values })
}

function pushInstrument(records: LinkRecord[], payment: DepositEvent | WithdrawalEvent): void {
  const found = instrumentLink(payment.method, payment.instrument)
  if (found !== null) pushLink(records, payment, found.type, found.identifier)
}

/**
 * The link records of one input event (see the table above), in a fixed order; empty when the
 * event links nothing. Pure: the same event (and profile) always gives the same records.
 */
export function linksFor(event: InputEvent, profile?: LinkProfile): LinkRecord[] {
  const records: LinkRecord[] = []
  switch (event.kind) {
    case 'device':
      pushLink(records, event, 'DEVICE', event.deviceFingerprint)
      // A proxy, VPN or Tor exit is shared by strangers: its block says nothing about who is linked.
      if (!event.isProxy && !event.isVpn && !event.isTor) pushLink(records, event, 'IP_BLOCK', ipBlockOf(event.ip))
      break
    case 'deposit':
      pushInstrument(records, event)
      if (event.status === 'CHARGEBACK') pushFlags(records, event, { flagged: null, sanctioned: null, chargedBack: true, bonusClaimed: null })
      else if (event.status === 'COMPLETED' && (event.bonusAmountMinor ?? 0) > 0) pushFlags(records, event, { flagged: null, sanctioned: null, chargedBack: null, bonusClaimed: true })
      break
    case 'withdrawal':
      pushInstrument(records, event)
      break
    case 'player':
      pushLink(records, event, 'EMAIL', event.emailHash)
      pushLink(records, event, 'PHONE', event.phoneHash)
      if (event.referrerPlayerId !== event.playerId) pushLink(records, event, 'REFERRER', event.referrerPlayerId)
      if (profile !== undefined && (profile.sanctioned !== undefined || profile.flagged !== undefined)) {
        pushFlags(records, event, { flagged: profile.flagged ?? null, sanctioned: profile.sanctioned ?? null, chargedBack: null, bonusClaimed: null })
      }
      break
    case 'transfer':
      if (event.toPlayerId === event.playerId) break
      records.push({ ...baseRecord(event, 0, 'TRANSFER'), transferId: event.transferId, toPlayerId: event.toPlayerId, amountMinor: event.amountMinor, currency: event.currency })
      break
    case 'bet':
      // Only settled bets: the graph keeps the first record of a betId, and collusion reads the
      // result, which a placed bet does not have yet.
      if (event.type !== 'SETTLED' || event.tableId === null || event.roundId === null) break
      records.push({
        ...baseRecord(event, 0, 'BET'), betId: event.betId, tableId: event.tableId, roundId: event.roundId,
        side: event.side === null || event.side === '' ? null : event.side.toLowerCase(),
        amountMinor: event.stakeMinor, resultMinor: event.winMinor - event.stakeMinor, currency: event.currency,
      })
      break
    default:
      break
  }
  return records
}

/**
 * Kafka key of a link record: `<type>:<identifier>` (graph type names, e.g. `device:fp:9a`) for
 * LINK, the transferId for TRANSFER, `round:<table>:<round>` for BET, `player:<id>` for FLAGS and
 * ERASE — so one identifier's, transfer's or round's records share a partition, and one player's
 * flags stay in order.
 */
export function linkKeyOf(record: LinkRecord): string {
  switch (record.kind) {
    case 'LINK': return `${record.identifierType === null || record.identifierType === 'UNKNOWN' ? 'unknown' : GRAPH_IDENTIFIER_TYPE[record.identifierType]}:${record.identifier ?? ''}`
    case 'TRANSFER': return record.transferId ?? `player:${record.playerId}`
    case 'BET': return `round:${record.tableId ?? ''}:${record.roundId ?? ''}`
    default: return `player:${record.playerId}`
  }
}

function required<T>(value: T | null, field: string, record: LinkRecord): T {
  if (value === null) throw new RiskError('RISK_ERR_INVALID_FIELD', `a ${record.kind} link record needs ${field}; ${record.linkId} has none`, { linkId: record.linkId, field })
  return value
}

/**
 * Applies one link record to the graph. Throws RISK_ERR_INVALID_FIELD for a record the graph
 * cannot take (UNKNOWN kind or identifier type, a field its kind needs is null, a bad value),
 * before changing anything: the worker dead-letters it and goes on.
 * Example: applyLinkRecord(graph, record) // LINK DEVICE fp:9a for p1 -> graph.addLink({ playerId: 'p1', identifierType: 'device', ... })
 */
export function applyLinkRecord(graph: LinkGraph, record: LinkRecord): void {
  const { playerId, eventTimeMs } = record
  switch (record.kind) {
    case 'LINK': {
      const type = required(record.identifierType, 'identifierType', record)
      if (type === 'UNKNOWN') throw new RiskError('RISK_ERR_INVALID_FIELD', `link record ${record.linkId} has identifierType UNKNOWN (written by a newer producer?)`, { linkId: record.linkId, field: 'identifierType' })
      graph.addLink({ playerId, identifierType: GRAPH_IDENTIFIER_TYPE[type], identifier: required(record.identifier, 'identifier', record), eventTimeMs })
      return
    }
    case 'TRANSFER':
      graph.addTransfer({ transferId: required(record.transferId, 'transferId', record), fromPlayerId: playerId, toPlayerId: required(record.toPlayerId, 'toPlayerId', record), amountMinor: required(record.amountMinor, 'amountMinor', record), eventTimeMs })
      return
    case 'BET':
      graph.addBet({
        betId: required(record.betId, 'betId', record), playerId, tableId: required(record.tableId, 'tableId', record), roundId: required(record.roundId, 'roundId', record),
        side: record.side ?? NO_SIDE, amountMinor: required(record.amountMinor, 'amountMinor', record), resultMinor: required(record.resultMinor, 'resultMinor', record), eventTimeMs,
      })
      return
    case 'FLAGS': {
      const flags: { -readonly [K in keyof PlayerFlags]: PlayerFlags[K] } = {}
      if (record.flagged !== null) flags.flagged = record.flagged
      if (record.sanctioned !== null) flags.sanctioned = record.sanctioned
      if (record.chargedBack !== null) flags.chargedBack = record.chargedBack
      if (record.bonusClaimed !== null) flags.bonusClaimed = record.bonusClaimed
      graph.setPlayerFlags(playerId, flags)
      return
    }
    case 'ERASE':
      if (playerId === '') throw new RiskError('RISK_ERR_INVALID_FIELD', `erase record ${record.linkId} has an empty playerId`, { linkId: record.linkId, field: 'playerId' })
      graph.removePlayer(playerId)
      return
    default:
      throw new RiskError('RISK_ERR_INVALID_FIELD', `link record ${record.linkId} has kind ${record.kind} (written by a newer producer?)`, { linkId: record.linkId, field: 'kind' })
  }
}
