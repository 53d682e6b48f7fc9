import { describe, expect, it } from 'vitest'
import { INPUT_TOPIC_KEYS, type InputTopicKey } from '../../core/topics.js'
import { toInputEvent } from '../../schemas/adapters.js'
import { INPUT_EVENT_KIND_BY_TOPIC } from '../../schemas/domain.js'
import type { TopicWireTypes } from '../../schemas/generated/types.js'
import { loadFixture } from './fixtures.js'

function wire<K extends InputTopicKey>(topic: K, changes: Record<string, unknown> = {}): TopicWireTypes[K] {
  return { ...(loadFixture(topic).value as object), ...changes } as unknown as TopicWireTypes[K]
}

describe('toInputEvent', () => {
  it.each(INPUT_TOPIC_KEYS)('turns the %s fixture into its domain event', (topic) => {
    const record = wire(topic)
    const result = toInputEvent(topic, record)
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.event.kind).toBe(INPUT_EVENT_KIND_BY_TOPIC[topic])
    expect(result.event.eventId).toBe(record.eventId)
    expect(result.event.eventTimeMs).toBe(record.eventTimeMs)
    expect(record).not.toHaveProperty('kind', INPUT_EVENT_KIND_BY_TOPIC[topic]) // the record itself is untouched
  })

  it('moves a transfer\'s wire kind to transferKind, since kind is the discriminator', () => {
    const result = toInputEvent('transfers', wire('transfers'))
    expect(result).toMatchObject({ ok: true, event: { kind: 'transfer', transferKind: 'CHIP_TRANSFER', toPlayerId: 'pl-50877' } })
  })

  it('accepts a chargeback, which carries a positive amount, and a zero amount', () => {
    expect(toInputEvent('deposits', wire('deposits', { status: 'CHARGEBACK', amountMinor: 49_500 })).ok).toBe(true)
    expect(toInputEvent('bets', wire('bets', { winMinor: 0 })).ok).toBe(true)
  })

  it.each([
    { topic: 'deposits', changes: { eventId: '' }, field: 'eventId' },
    { topic: 'bets', changes: { playerId: '   ' }, field: 'playerId' },
    { topic: 'deposits', changes: { depositId: '' }, field: 'depositId' },
    { topic: 'deposits', changes: { amountMinor: -1 }, field: 'amountMinor' },
    { topic: 'deposits', changes: { amountMinor: 12.5 }, field: 'amountMinor' },
    { topic: 'deposits', changes: { amountMinor: 2 ** 53 }, field: 'amountMinor' },
    { topic: 'deposits', changes: { currency: 'eur' }, field: 'currency' },
    { topic: 'deposits', changes: { instrument: { token: '', cardBin: null, walletAddress: null, holderName: null } }, field: 'instrument.token' },
    { topic: 'withdrawals', changes: { currency: 'EURO' }, field: 'currency' },
    { topic: 'withdrawals', changes: { amountMinor: -85_000 }, field: 'amountMinor' },
    { topic: 'withdrawals', changes: { withdrawalId: '' }, field: 'withdrawalId' },
    { topic: 'bets', changes: { stakeMinor: -200 }, field: 'stakeMinor' },
    { topic: 'bets', changes: { winMinor: -1 }, field: 'winMinor' },
    { topic: 'bets', changes: { tableId: '' }, field: 'tableId' },
    { topic: 'transfers', changes: { toPlayerId: 'pl-48213' }, field: 'toPlayerId' },
    { topic: 'transfers', changes: { toPlayerId: '' }, field: 'toPlayerId' },
    { topic: 'transfers', changes: { currency: 'E1R' }, field: 'currency' },
    { topic: 'devices', changes: { deviceFingerprint: '' }, field: 'deviceFingerprint' },
    { topic: 'devices', changes: { ipCountry: 'fr' }, field: 'ipCountry' },
    { topic: 'players', changes: { country: 'Malta' }, field: 'country' },
    { topic: 'players', changes: { dateOfBirth: '1991-02-30' }, field: 'dateOfBirth' },
    { topic: 'players', changes: { dateOfBirth: '07/03/1991' }, field: 'dateOfBirth' },
    { topic: 'players', changes: { emailHash: '' }, field: 'emailHash' },
    { topic: 'players', changes: { jurisdiction: '' }, field: 'jurisdiction' },
  ] as Array<{ topic: InputTopicKey; changes: Record<string, unknown>; field: string }>)('refuses $topic with bad $field', ({ topic, changes, field }) => {
    const result = toInputEvent(topic, wire(topic, changes))
    expect(result).toMatchObject({ ok: false, code: 'RISK_ERR_INVALID_FIELD', field })
    expect(result.ok === false && result.message.startsWith(`${field}: `)).toBe(true)
  })

  it('refuses something that is not a record', () => {
    expect(toInputEvent('deposits', null as unknown as TopicWireTypes['deposits'])).toMatchObject({ ok: false, code: 'RISK_ERR_INVALID_FIELD' })
  })
})
