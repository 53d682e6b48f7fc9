/**
 * The simulator source of the training-set export: the labelling rule on planted typologies, the
 * seeds option, and a small real simulation replayed through the processor.
 */
import { describe, expect, it } from 'vitest'
import { DetectorRegistry } from '../../../detectors/index.js'
import { RuleSet } from '../../../detectors/rule-set.js'
import { FEATURE_COUNT } from '../../../models/features.js'
import { buildSimulatorTrainingSet, DEFAULT_RULE_SET_PATH, parseSeeds, toCsv, typologyLabeller } from '../../../models/training/export-training-set.js'

const registry = new DetectorRegistry()
const ruleSet = RuleSet.load(DEFAULT_RULE_SET_PATH, registry)

describe('typologyLabeller', () => {
  const labelOf = typologyLabeller([
    { typology: 'pass_through', playerIds: ['p1'], fromMs: 1_000, toMs: 2_000 },
    { typology: 'multi_account_farm', playerIds: ['p2', 'p3'], fromMs: 5_000, toMs: 9_000 },
  ])

  it('labels a planted player from the start of the window on, also after it ends', () => {
    expect(labelOf({ playerId: 'p1', eventTimeMs: 999 })).toEqual({ label: 0, typology: null })
    expect(labelOf({ playerId: 'p1', eventTimeMs: 1_000 })).toEqual({ label: 1, typology: 'pass_through' })
    expect(labelOf({ playerId: 'p1', eventTimeMs: 50_000 })).toEqual({ label: 1, typology: 'pass_through' })
    expect(labelOf({ playerId: 'p3', eventTimeMs: 6_000 })).toEqual({ label: 1, typology: 'multi_account_farm' })
  })

  it('labels everyone else 0', () => {
    expect(labelOf({ playerId: 'p9', eventTimeMs: 6_000 })).toEqual({ label: 0, typology: null })
  })
})

describe('parseSeeds', () => {
  it('reads a range or a list, and refuses anything else with a coded error', () => {
    expect(parseSeeds('101-104')).toEqual([101, 102, 103, 104])
    expect(parseSeeds('7, 9')).toEqual([7, 9])
    expect(() => parseSeeds('a-b')).toThrow(/RISK_ERR_CONFIG_INVALID|--seeds/)
    expect(() => parseSeeds('1.5')).toThrow(/--seeds/)
  })
})

describe('buildSimulatorTrainingSet', () => {
  it('replays each seed, labels the planted players and keeps seeds apart', () => {
    const rows = buildSimulatorTrainingSet({ seeds: [201, 202], players: 150, days: 1 }, ruleSet, registry)
    expect(rows.length).toBeGreaterThan(10)
    expect(rows.every((row) => row.features.length === FEATURE_COUNT)).toBe(true)
    expect(new Set(rows.map((row) => row.playerId.split(':')[0]))).toEqual(new Set(['s201', 's202']))
    const positives = rows.filter((row) => row.label === 1)
    // One instance of each typology per seed: the cash-outs of pass-through, structuring, the farms...
    expect(positives.length).toBeGreaterThan(4)
    expect(positives.every((row) => row.typology !== null)).toBe(true)
    expect(rows.filter((row) => row.label === 0).every((row) => row.typology === null)).toBe(true)
    expect(new Set(positives.map((row) => row.typology))).toContain('pass_through')
    // Deterministic: the same seeds give the same CSV.
    expect(toCsv(buildSimulatorTrainingSet({ seeds: [201], players: 150, days: 1 }, ruleSet, registry)))
      .toBe(toCsv(rows.filter((row) => row.playerId.startsWith('s201:'))))
  })
})
