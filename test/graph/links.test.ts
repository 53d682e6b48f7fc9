import { describe, expect, it } from 'vitest'
import { bet, deposit, device, player, transfer, withdrawal } from '../../bench/events.js'
import { isRiskError } from '../../core/errors.js'
import { LinkGraph } from '../../graph/link-graph.js'
import { applyLinkRecord, ipBlockOf, linkKeyOf, linksFor, type LinkRecord } from '../../graph/links.js'
import { SCHEMA_CATALOG } from '../../schemas/catalog.js'
import type { InputEvent } from '../../schemas/domain.js'

const T = 1_767_225_600_000
const asDevice = (fields: Parameters<typeof device>[0]): InputEvent => ({ kind: 'device', ...device(fields) })
const asDeposit = (fields: Parameters<typeof deposit>[0]): InputEvent => ({ kind: 'deposit', ...deposit(fields) })
const asWithdrawal = (fields: Parameters<typeof withdrawal>[0]): InputEvent => ({ kind: 'withdrawal', ...withdrawal(fields) })
const asPlayer = (fields: Parameters<typeof player>[0]): InputEvent => ({ kind: 'player', ...player(fields) })
const asBet = (fields: Parameters<typeof bet>[0]): InputEvent => ({ kind: 'bet', ...bet(fields) })
const asTransfer = (fields: Parameters<typeof transfer>[0]): InputEvent => {
  const { kind, ...rest } = transfer(fields)
  return { ...rest, kind: 'transfer', transferKind: kind }
}

/** The fields a record sets beyond the common ones, for compact expectations. */
function brief(record: LinkRecord): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([name, value]) => value !== null && !['linkId', 'playerId', 'eventTimeMs', 'sourceEventId'].includes(name)))
}

describe('linksFor', () => {
  it('links a device by fingerprint and IP block, with the event time and ids numbered from the event id', () => {
    const event = asDevice({ playerId: 'p1', eventTimeMs: T, eventId: 'dv-1', deviceFingerprint: 'fp:9a', ip: '203.0.113.77' })
    const records = linksFor(event)
    expect(records.map(brief)).toEqual([
      { kind: 'LINK', identifierType: 'DEVICE', identifier: 'fp:9a' },
      { kind: 'LINK', identifierType: 'IP_BLOCK', identifier: '203.0.113.0/24' },
    ])
    expect(records.map((record) => record.linkId)).toEqual(['dv-1:0', 'dv-1:1'])
    for (const record of records) expect(record).toMatchObject({ playerId: 'p1', eventTimeMs: T, sourceEventId: 'dv-1' })
    expect(records.map(linkKeyOf)).toEqual(['device:fp:9a', 'ip_block:203.0.113.0/24'])
    // pure: the same event gives the same records
    expect(linksFor(event)).toEqual(records)
  })

  it('skips the IP block of a proxy, VPN or Tor exit, and an unparseable IP', () => {
    for (const flag of ['isProxy', 'isVpn', 'isTor'] as const) {
      expect(linksFor(asDevice({ playerId: 'p1', eventTimeMs: T, [flag]: true })).map((record) => record.identifierType)).toEqual(['DEVICE'])
    }
    expect(linksFor(asDevice({ playerId: 'p1', eventTimeMs: T, ip: 'not-an-ip' })).map((record) => record.identifierType)).toEqual(['DEVICE'])
  })

  it('blocks IPv4 by /24 and IPv6 by /48, IPv4-mapped IPv6 as IPv4', () => {
    expect(ipBlockOf('198.51.100.7')).toBe('198.51.100.0/24')
    expect(ipBlockOf('2001:DB8:0a:1::7')).toBe('2001:db8:a::/48')
    expect(ipBlockOf('2001:db8::1')).toBe('2001:db8:0::/48')
    expect(ipBlockOf('fe80::1%eth0')).toBe('fe80:0:0::/48')
    expect(ipBlockOf('::ffff:203.0.113.9')).toBe('203.0.113.0/24')
    for (const bad of ['256.1.1.1', '1.2.3', '2001:db8::1::2', '1:2:3:4:5:6:7:8:9', 'g::1', '']) expect(ipBlockOf(bad), bad).toBeNull()
  })

  it('links deposits and withdrawals by card token or wallet, and flags chargebacks and bonuses', () => {
    const card = { token: 'card-tok-1', cardBin: '411111', walletAddress: null, holderName: null }
    expect(linksFor(asDeposit({ playerId: 'p1', eventTimeMs: T, method: 'CARD', instrument: card })).map(brief)).toEqual([
      { kind: 'LINK', identifierType: 'CARD', identifier: 'card-tok-1' },
    ])
    const crypto = { token: 'tok-w', cardBin: null, walletAddress: 'bc1qxyz', holderName: null }
    expect(linksFor(asWithdrawal({ playerId: 'p1', eventTimeMs: T, method: 'CRYPTO', instrument: crypto })).map(brief)).toEqual([
      { kind: 'LINK', identifierType: 'WALLET', identifier: 'bc1qxyz' },
    ])
    const ewallet = { token: 'skrill:42', cardBin: null, walletAddress: null, holderName: null }
    expect(linksFor(asWithdrawal({ playerId: 'p1', eventTimeMs: T, method: 'EWALLET', instrument: ewallet })).map(brief)).toEqual([
      { kind: 'LINK', identifierType: 'WALLET', identifier: 'skrill:42' },
    ])
    expect(linksFor(asDeposit({ playerId: 'p1', eventTimeMs: T, status: 'CHARGEBACK', instrument: card })).map(brief)).toEqual([
      { kind: 'LINK', identifierType: 'CARD', identifier: 'card-tok-1' },
      { kind: 'FLAGS', chargedBack: true },
    ])
    expect(linksFor(asDeposit({ playerId: 'p1', eventTimeMs: T, instrument: card, bonusAmountMinor: 50_00 })).map(brief)).toEqual([
      { kind: 'LINK', identifierType: 'CARD', identifier: 'card-tok-1' },
      { kind: 'FLAGS', bonusClaimed: true },
    ])
    // a failed deposit still shows the card (card testing), but claims no bonus
    expect(linksFor(asDeposit({ playerId: 'p1', eventTimeMs: T, status: 'FAILED', instrument: card, bonusAmountMinor: 50_00 })).map((record) => record.kind)).toEqual(['LINK'])
    const flags = linksFor(asDeposit({ playerId: 'p1', eventTimeMs: T, status: 'CHARGEBACK' }))[1] as LinkRecord
    expect(linkKeyOf(flags)).toBe('player:p1')
  })

  it('links players by e-mail and phone hash and referrer, and sends the engine flags when given', () => {
    const event = asPlayer({ playerId: 'p2', eventTimeMs: T, emailHash: 'e1', phoneHash: 'ph1', referrerPlayerId: 'p1' })
    expect(linksFor(event).map(brief)).toEqual([
      { kind: 'LINK', identifierType: 'EMAIL', identifier: 'e1' },
      { kind: 'LINK', identifierType: 'PHONE', identifier: 'ph1' },
      { kind: 'LINK', identifierType: 'REFERRER', identifier: 'p1' },
    ])
    expect(linksFor(event, { sanctioned: true }).map(brief).at(-1)).toEqual({ kind: 'FLAGS', sanctioned: true })
    expect(linksFor(event, {})).toHaveLength(3)
    // no self-referral, nothing for a change that carries no identifier
    expect(linksFor(asPlayer({ playerId: 'p2', eventTimeMs: T, referrerPlayerId: 'p2' }))).toEqual([])
  })

  it('turns a transfer into one TRANSFER keyed by its id, and none to oneself', () => {
    const records = linksFor(asTransfer({ playerId: 'p1', toPlayerId: 'p2', eventTimeMs: T, transferId: 'tr-9', amountMinor: 120_00 }))
    expect(records.map(brief)).toEqual([{ kind: 'TRANSFER', transferId: 'tr-9', toPlayerId: 'p2', amountMinor: 120_00, currency: 'EUR' }])
    expect(linkKeyOf(records[0] as LinkRecord)).toBe('tr-9')
    expect(linksFor(asTransfer({ playerId: 'p1', toPlayerId: 'p1', eventTimeMs: T }))).toEqual([])
  })

  it('turns a settled table bet into a BET with its net result; slots and placed bets give nothing', () => {
    const table = { gameType: 'LIVE_TABLE' as const, tableId: 'bac-3', roundId: 'r-118', side: 'BANKER', stakeMinor: 25_00 }
    const records = linksFor(asBet({ playerId: 'p1', eventTimeMs: T, betId: 'b-1', winMinor: 0, ...table }))
    expect(records.map(brief)).toEqual([{ kind: 'BET', betId: 'b-1', tableId: 'bac-3', roundId: 'r-118', side: 'banker', amountMinor: 25_00, resultMinor: -25_00, currency: 'EUR' }])
    expect(linkKeyOf(records[0] as LinkRecord)).toBe('round:bac-3:r-118')
    expect(linksFor(asBet({ playerId: 'p1', eventTimeMs: T, type: 'PLACED', ...table }))).toEqual([])
    expect(linksFor(asBet({ playerId: 'p1', eventTimeMs: T }))).toEqual([])
  })

  it('writes records the links schema accepts', () => {
    const type = SCHEMA_CATALOG.links.type
    const events = [
      asDevice({ playerId: 'p1', eventTimeMs: T }), asDeposit({ playerId: 'p1', eventTimeMs: T, status: 'CHARGEBACK' }),
      asPlayer({ playerId: 'p2', eventTimeMs: T, emailHash: 'e', referrerPlayerId: 'p1' }), asTransfer({ playerId: 'p1', toPlayerId: 'p2', eventTimeMs: T }),
      asBet({ playerId: 'p1', eventTimeMs: T, tableId: 't', roundId: 'r', side: null }),
    ]
    const records = events.flatMap((event) => linksFor(event))
    expect(records).toHaveLength(8)
    for (const record of records) expect(type.isValid(record, { noUndeclaredFields: true }), JSON.stringify(record)).toBe(true)
  })
})

describe('applyLinkRecord', () => {
  it('builds the graph the records describe: a farm on one device, a transfer, flags', () => {
    const graph = new LinkGraph()
    const events: InputEvent[] = [
      ...['p1', 'p2', 'p3'].map((playerId, index) => asDevice({ playerId, eventTimeMs: T + index, eventId: `dv-${playerId}`, deviceFingerprint: 'fp:shared', isVpn: true })),
      asTransfer({ playerId: 'p3', toPlayerId: 'p4', eventTimeMs: T + 10, transferId: 'tr-1', amountMinor: 10_00 }),
      asDeposit({ playerId: 'p4', eventTimeMs: T + 20, status: 'CHARGEBACK', instrument: { token: 'card-4', cardBin: null, walletAddress: null, holderName: null } }),
    ]
    for (const record of events.flatMap((event) => linksFor(event))) applyLinkRecord(graph, record)
    const { alerts } = graph.recompute()
    expect(alerts.map((alert) => alert.typology)).toEqual(['multi_account_farm'])
    const cluster = graph.clusterOf('p4')
    expect(cluster).toMatchObject({ clusterId: 'cmp:p1', size: 4 })
    expect(graph.flagsOf('p4')).toEqual({ chargedBack: true })
  })

  it('refuses records it cannot apply with RISK_ERR_INVALID_FIELD, before changing the graph', () => {
    const graph = new LinkGraph()
    const [link] = linksFor(asDevice({ playerId: 'p1', eventTimeMs: T, isVpn: true }))
    const bad: LinkRecord[] = [
      { ...(link as LinkRecord), kind: 'UNKNOWN' },
      { ...(link as LinkRecord), identifierType: 'UNKNOWN' },
      { ...(link as LinkRecord), identifier: null },
      { ...(link as LinkRecord), kind: 'TRANSFER' },
      { ...(link as LinkRecord), eventTimeMs: -1 },
    ]
    for (const record of bad) {
      let caught: unknown
      try {
        applyLinkRecord(graph, record)
      } catch (error) {
        caught = error
      }
      expect(isRiskError(caught, 'RISK_ERR_INVALID_FIELD'), JSON.stringify(record)).toBe(true)
    }
    expect(graph.counts().players).toBe(0)
  })

  it('erases a player on ERASE', () => {
    const graph = new LinkGraph()
    for (const record of ['p1', 'p2'].flatMap((playerId) => linksFor(asDevice({ playerId, eventTimeMs: T, deviceFingerprint: 'fp:x', isVpn: true })))) applyLinkRecord(graph, record)
    graph.recompute()
    applyLinkRecord(graph, { ...(linksFor(asDevice({ playerId: 'p2', eventTimeMs: T, isVpn: true }))[0] as LinkRecord), kind: 'ERASE', identifierType: null, identifier: null })
    const { changedPlayerIds } = graph.recompute()
    expect(changedPlayerIds).toContain('p2')
    expect(graph.clusterOf('p2')).toBeNull()
    expect(graph.clusterOf('p1')).toMatchObject({ size: 1 })
  })
})
