import { describe, expect, it } from 'vitest'
import type { Alert, Bet, DeadLetter, Decision, Deposit, DeviceActivity, LedgerCommand, PayoutCommand, PlayerChange, Transfer, Withdrawal } from '../../schemas/generated/types.js'
import {
  toAlertRow, toDeadLetterRow, toDecisionRow, toEventRow, toJsonText, toLedgerCommandRow, toModelScoreRows, toPayoutCommandRow, toRuleExecutionRows,
  type RowMeta,
} from '../../sinks/rows.js'
import { loadFixture } from '../schemas/fixtures.js'

// 2024-05-14 12:00:00.250 UTC
const meta: RowMeta = { latencyMs: 1.5, insertedAtMs: 1_715_688_000_250, source: { topic: 't1.casino.deposits.v1', partition: 3, offset: '1042', timestampMs: 1_715_691_000_750 } }
const decision = loadFixture('decisions', 1).value as Decision

describe('toEventRow', () => {
  it('keeps the Kafka position as identity and the whole record as JSON', () => {
    const deposit = loadFixture('deposits').value as Deposit
    const row = toEventRow('deposits', deposit, meta)
    expect(row).toEqual({
      topic: 't1.casino.deposits.v1',
      partition: 3,
      offset: '1042',
      event_id: 'evt-dp-20240514-010022',
      player_id: 'pl-48213',
      event_time: '2024-05-14 12:43:21',
      event_time_ms: 1_715_690_601_250,
      type: 'COMPLETED',
      amount_minor: 49_500,
      currency: 'EUR',
      payload: row.payload,
      inserted_at: '2024-05-14 12:00:00',
    })
    expect(JSON.parse(row.payload as string)).toEqual(deposit)
  })

  it('takes each topic\'s kind and amount, 0 and \'\' where it has none', () => {
    const pick = (row: Record<string, unknown>) => [row.type, row.amount_minor, row.currency, row.event_id]
    expect(pick(toEventRow('players', loadFixture('players').value as PlayerChange, meta))).toEqual(['KYC_CHANGED', 0, '', 'evt-pl-20240514-000187'])
    expect(pick(toEventRow('devices', loadFixture('devices').value as DeviceActivity, meta))).toEqual(['LOGIN', 0, '', 'evt-dv-20240514-004411'])
    expect(pick(toEventRow('transfers', loadFixture('transfers').value as Transfer, meta))).toEqual(['CHIP_TRANSFER', 15_000, 'EUR', 'evt-tr-20240514-000042'])
    expect(pick(toEventRow('bets', loadFixture('bets').value as Bet, meta))).toEqual(['SETTLED', 20_000, 'EUR', 'evt-bt-20240514-220931'])
    expect(pick(toEventRow('withdrawals', loadFixture('withdrawals').value as Withdrawal, meta))).toEqual(['REQUESTED', 85_000, 'EUR', 'evt-wd-20240514-000881'])
  })

  it('clamps an event time outside DateTime\'s range and keeps the exact one in event_time_ms', () => {
    const player = { ...(loadFixture('players').value as PlayerChange), eventTimeMs: -5 }
    expect(toEventRow('players', player, meta)).toMatchObject({ event_time: '1970-01-01 00:00:00', event_time_ms: -5 })
  })
})

describe('toJsonText', () => {
  it('writes bytes as hex and bigints as decimal strings', () => {
    expect(toJsonText({ key: Buffer.from([1, 255]), inner: { n: 2n ** 60n, bytes: new Uint8Array([16]) }, none: null })).toBe('{"key":"01ff","inner":{"n":"1152921504606846976","bytes":"10"},"none":null}')
  })
})

describe('toDecisionRow', () => {
  it('flattens the decision with its executions as aligned arrays', () => {
    expect(toDecisionRow(decision, meta)).toMatchObject({
      decision_id: 'wd-881:1',
      withdrawal_id: 'wd-881',
      revision: 1,
      reasons: [
        'RULE_HIT (deposit_withdraw_no_play): withdrawal of 850.00 EUR after 495.00 EUR deposited and 200.00 EUR wagered in 24 h (wager ratio 0.40 < 1.00)',
        'MODEL_SCORE_HIGH: model score 0.81 >= review threshold 0.70',
      ],
      executions_detector: ['deposit_withdraw_no_play@2', 'withdrawal_velocity@1', 'shared_instrument@1'],
      executions_status: ['hit', 'no_hit', 'error'],
      executions_value: [0.4, 1, Number.NaN],
      model_id: 'withdrawal-risk-gbt',
      score: 0.8125,
      source_offset: 1042,
      latency_ms: 1.5,
      event_time: '2024-05-14 12:50:00',
    })
  })
})

describe('toRuleExecutionRows', () => {
  it('gives one row per execution, in order, with nulls kept', () => {
    const rows = toRuleExecutionRows(decision, meta)
    expect(rows).toHaveLength(3)
    expect(rows[0]).toEqual({
      decision_id: 'wd-881:1',
      withdrawal_id: 'wd-881',
      revision: 1,
      execution_index: 0,
      player_id: 'pl-48213',
      detector_id: 'deposit_withdraw_no_play',
      detector_version: 2,
      status: 'hit',
      value: 0.4,
      threshold: 1,
      detail: 'wagered 20000 of 49500 deposited',
      rule_set_version: '2024-05-01.3',
      event_time: '2024-05-14 12:50:00',
      event_time_ms: 1_715_691_000_000,
      inserted_at: '2024-05-14 12:00:00',
    })
    expect(rows.map((row) => [row.execution_index, row.detector_id, row.status, row.value, row.threshold, row.detail])).toEqual([
      [0, 'deposit_withdraw_no_play', 'hit', 0.4, 1, 'wagered 20000 of 49500 deposited'],
      [1, 'withdrawal_velocity', 'no_hit', 1, 3, null],
      [2, 'shared_instrument', 'error', null, null, 'cluster table not ready'],
    ])
  })

  it('gives no row for a decision without executions', () => {
    expect(toRuleExecutionRows({ ...decision, executions: [] }, meta)).toEqual([])
  })
})

describe('toModelScoreRows', () => {
  it('gives the champion alone for a decision without shadows (schema v1)', () => {
    expect(toModelScoreRows(decision, meta)).toEqual([{
      decision_id: 'wd-881:1',
      withdrawal_id: 'wd-881',
      revision: 1,
      player_id: 'pl-48213',
      model_id: 'withdrawal-risk-gbt',
      model_version: '7',
      role: 'champion',
      score: 0.8125,
      cutoff: null,
      contributions_feature: ['wager_to_deposit_ratio_24h', 'vpn_logins_7d', 'account_age_days'],
      contributions_value: [0.3125, 0.125, -0.0625],
      event_time: '2024-05-14 12:50:00',
      event_time_ms: 1_715_691_000_000,
      inserted_at: '2024-05-14 12:00:00',
    }])
  })

  it('adds one row per shadow, with cut-offs where the decision carries them', () => {
    const withShadows = {
      ...decision,
      model: { ...decision.model!, cutoff: 0.62 },
      shadows: [
        { modelId: 'withdrawal-burst-xgb', modelVersion: '2', score: 0.64, cutoff: 0.58, contributions: [{ feature: 'withdrawals_24h_count', contribution: 1.1 }, { feature: 'account_age_hours', contribution: -0.2 }] },
        { modelId: 'withdrawal-risk-gbt', modelVersion: '8', score: 0.5, cutoff: 0.6, contributions: [] },
      ],
    } as Decision
    const rows = toModelScoreRows(withShadows, meta)
    expect(rows.map((row) => [row.role, row.model_id, row.model_version, row.score, row.cutoff, row.contributions_feature, row.contributions_value])).toEqual([
      ['champion', 'withdrawal-risk-gbt', '7', 0.8125, 0.62, ['wager_to_deposit_ratio_24h', 'vpn_logins_7d', 'account_age_days'], [0.3125, 0.125, -0.0625]],
      ['shadow', 'withdrawal-burst-xgb', '2', 0.64, 0.58, ['withdrawals_24h_count', 'account_age_hours'], [1.1, -0.2]],
      ['shadow', 'withdrawal-risk-gbt', '8', 0.5, 0.6, [], []],
    ])
  })

  it('gives no row when no model scored', () => {
    expect(toModelScoreRows({ ...decision, model: null }, meta)).toEqual([])
  })
})

describe('toAlertRow', () => {
  it('keeps the window and evidence', () => {
    expect(toAlertRow(loadFixture('alerts').value as Alert, meta)).toEqual({
      alert_id: 'deposit_structuring@1:evt-dp-20240514-010022',
      player_id: 'pl-48213',
      detector_id: 'deposit_structuring',
      detector_version: 1,
      severity: 'HIGH',
      action: 'REVIEW',
      event_time: '2024-05-14 12:43:21',
      event_time_ms: 1_715_690_601_250,
      value: 4,
      threshold: 3,
      window_start_ms: 1_715_604_201_250,
      window_end_ms: 1_715_690_601_251,
      evidence_event_ids: ['evt-dp-20240513-009114', 'evt-dp-20240514-000341', 'evt-dp-20240514-004470', 'evt-dp-20240514-010022'],
      rule_set_version: '2024-05-01.3',
      inserted_at: '2024-05-14 12:00:00',
    })
  })
})

describe('command rows', () => {
  it('payout command: keyed by its idempotency key, emitted at the Kafka timestamp', () => {
    expect(toPayoutCommandRow(loadFixture('payoutCommands').value as PayoutCommand, meta)).toEqual({
      command_id: 'pay-wd-881-1',
      idempotency_key: 'wd:wd-881:PAY:1',
      withdrawal_id: 'wd-881',
      player_id: 'pl-48213',
      operation: 'PAY',
      attempt: 1,
      amount_minor: 85_000,
      currency: 'EUR',
      method: 'CRYPTO',
      instrument_token: 'btc:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh',
      decision_id: 'wd-881:1',
      emitted_at: '2024-05-14 12:50:00',
      emitted_at_ms: 1_715_691_000_750,
      inserted_at: '2024-05-14 12:00:00',
    })
  })

  it('ledger command', () => {
    expect(toLedgerCommandRow(loadFixture('ledgerCommands').value as LedgerCommand, meta)).toEqual({
      command_id: 'hold-wd-881-1',
      idempotency_key: 'wd:wd-881:HOLD:1',
      withdrawal_id: 'wd-881',
      player_id: 'pl-48213',
      operation: 'HOLD',
      amount_minor: 85_000,
      currency: 'EUR',
      decision_id: 'wd-881:1',
      emitted_at: '2024-05-14 12:50:00',
      emitted_at_ms: 1_715_691_000_750,
      inserted_at: '2024-05-14 12:00:00',
    })
  })
})

describe('toDeadLetterRow', () => {
  it('keeps the original bytes as base64', () => {
    expect(toDeadLetterRow(loadFixture('deadLetters').value as DeadLetter, meta)).toEqual({
      dlq_id: 'casino.deposits.v1:3:1042',
      source_topic: 'casino.deposits.v1',
      source_partition: 3,
      source_offset: 1042,
      reason: 'RISK_ERR_DECODE_MAGIC_BYTE',
      message: 'the payload starts with byte 0x7b, not the Confluent magic byte 0x00 (not Avro from a schema-registry serializer?)',
      payload_base64: Buffer.from('{"eventId":"evt"}').toString('base64'),
      event_time: '2024-05-14 12:43:21',
      inserted_at: '2024-05-14 12:00:00',
    })
  })
})
