import { describe, expect, it } from 'vitest'
import type { FixtureEvent } from '../../bench/fixture.js'
import { bet, deposit, device, player, withdrawal } from '../../bench/events.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { RuleSet } from '../../detectors/rule-set.js'
import { extractFeatures, FEATURE_COUNT, FEATURE_INDEX, FEATURE_NAMES, FEATURES } from '../../models/features.js'
import { buildTrainingSet, DEFAULT_RULE_SET_PATH, toCsv } from '../../models/training/export-training-set.js'
import { newPlayerState } from '../../pipelines/processor.js'
import type { WithdrawalEvent } from '../../schemas/domain.js'

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const registry = new DetectorRegistry()
const ruleSet = RuleSet.load(DEFAULT_RULE_SET_PATH, registry)
const at = <E extends FixtureEvent>(event: E): E => event

/** A verified MT player: registers, logs in, deposits 100 + 50 EUR, stakes 3 × 10 EUR, then asks for two withdrawals 20 minutes apart. */
const scenario: FixtureEvent[] = [
  at({ topic: 'players', value: player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT', tier: 'VERIFIED', kycStatus: 'VERIFIED' }) }),
  at({ topic: 'devices', value: device({ playerId: 'p1', eventTimeMs: 1 * HOUR_MS }) }),
  at({ topic: 'deposits', value: deposit({ playerId: 'p1', eventTimeMs: 1 * HOUR_MS + 1_000, depositId: 'd1', amountMinor: 100_00 }) }),
  at({ topic: 'deposits', value: deposit({ playerId: 'p1', eventTimeMs: 2 * HOUR_MS, depositId: 'd2', amountMinor: 50_00 }) }),
  ...[0, 1, 2].map((spin) => at({ topic: 'bets', value: bet({ playerId: 'p1', eventTimeMs: 2 * HOUR_MS + (spin + 1) * 5_000, betId: `b${spin}`, stakeMinor: 10_00 }) })),
  at({ topic: 'withdrawals', value: withdrawal({ playerId: 'p1', eventTimeMs: 2 * HOUR_MS + 10 * MINUTE_MS, withdrawalId: 'wd-p1-1-0', amountMinor: 60_00 }) }),
  at({ topic: 'withdrawals', value: withdrawal({ playerId: 'p1', eventTimeMs: 2 * HOUR_MS + 30 * MINUTE_MS, withdrawalId: 'wd-p1-1-1', amountMinor: 30_00 }) }),
  // A player the engine never saw register, with one lone request.
  at({ topic: 'withdrawals', value: withdrawal({ playerId: 'p2', eventTimeMs: 3 * HOUR_MS, withdrawalId: 'wd-p2-1-0', amountMinor: 10_00 }) }),
]

describe('feature contract', () => {
  it('has unique names, documented units and sources, in a stable order', () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_COUNT)
    for (const feature of FEATURES) {
      expect(feature.unit.length).toBeGreaterThan(0)
      expect(feature.description.length).toBeGreaterThan(10)
    }
    expect(FEATURE_INDEX.withdrawal_amount_minor).toBe(0)
  })

  it('reads an empty state as nothing seen, and undefined ratios as NaN', () => {
    const vector = extractFeatures(newPlayerState(), { ...withdrawal({ playerId: 'p', eventTimeMs: 1_000, amountMinor: 5_00 }), kind: 'withdrawal' } as WithdrawalEvent)
    expect(vector[FEATURE_INDEX.withdrawal_amount_minor]).toBe(500)
    expect(vector[FEATURE_INDEX.withdrawals_24h_count]).toBe(0)
    expect(vector[FEATURE_INDEX.account_age_hours]).toBeNaN()
    expect(vector[FEATURE_INDEX.wagering_to_deposit_ratio_48h]).toBeNaN()
  })
})

describe('features at decision time on a replayed scenario', () => {
  const rows = buildTrainingSet(scenario, ruleSet, registry)
  const byId = new Map(rows.map((row) => [row.withdrawalId, row]))
  const feature = (withdrawalId: string, name: keyof typeof FEATURE_INDEX): number => byId.get(withdrawalId)!.features[FEATURE_INDEX[name]] as number

  it('emits one row per withdrawal request, labelled by the documented burst rule', () => {
    expect(rows.map((row) => [row.withdrawalId, row.label])).toEqual([['wd-p1-1-0', 1], ['wd-p1-1-1', 1], ['wd-p2-1-0', 0]])
  })

  it('counts only what happened before the request', () => {
    expect(feature('wd-p1-1-0', 'withdrawals_1h_count')).toBe(0)
    expect(feature('wd-p1-1-1', 'withdrawals_1h_count')).toBe(1)
    expect(feature('wd-p1-1-1', 'withdrawals_24h_sum_minor')).toBe(60_00)
    expect(feature('wd-p1-1-1', 'amount_to_median_withdrawal')).toBeCloseTo(0.5, 6)
  })

  it('reads deposits, wagering, devices and the profile from detector state', () => {
    expect(feature('wd-p1-1-0', 'account_age_hours')).toBeCloseTo(2 + 10 / 60, 4)
    expect(feature('wd-p1-1-0', 'kyc_verified')).toBe(1)
    expect(feature('wd-p1-1-0', 'deposits_24h_count')).toBe(2)
    expect(feature('wd-p1-1-0', 'deposits_1h_count')).toBe(1)
    expect(feature('wd-p1-1-0', 'deposits_24h_sum_minor')).toBe(150_00)
    expect(feature('wd-p1-1-0', 'minutes_since_last_deposit')).toBeCloseTo(10, 4)
    expect(feature('wd-p1-1-0', 'deposits_48h_sum_minor')).toBe(150_00)
    expect(feature('wd-p1-1-0', 'wagering_to_deposit_ratio_48h')).toBeCloseTo(30_00 / 150_00, 6)
    expect(feature('wd-p1-1-0', 'withdrawal_to_deposit_ratio_48h')).toBeCloseTo(60_00 / 150_00, 6)
    expect(feature('wd-p1-1-0', 'distinct_devices_7d')).toBe(1)
    expect(feature('wd-p1-1-0', 'chargebacks_90d_count')).toBe(0)
  })

  it('leaves an unseen registration missing', () => {
    expect(feature('wd-p2-1-0', 'account_age_hours')).toBeNaN()
    expect(feature('wd-p2-1-0', 'deposits_24h_count')).toBe(0)
  })

  it('writes a CSV with the contract as header and nan for missing values', () => {
    const [header, , , third] = toCsv(rows).split('\n')
    expect(header).toBe(['withdrawal_id', 'player_id', 'event_time_ms', 'label', ...FEATURE_NAMES].join(','))
    expect(third).toMatch(/^wd-p2-1-0,p2,10800000,0,1000,nan,/)
  })
})
