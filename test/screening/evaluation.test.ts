import { beforeAll, describe, expect, it } from 'vitest'
import { seededRandom } from '../../core/seeded-random.js'
import { evaluate, generateEvaluationSet, type EvaluationCase } from '../../screening/evaluation.js'
import { buildScreener, type Screener } from '../../screening/index.js'
import { loadSdn, loadUn } from './lists.js'

// A smaller slice of the evaluation bench/screening.bench.ts prints; the floors sit a little under
// the measured figures (name only P 0.978 / R 0.988, with DOB P 0.999 / R 0.993 on 1,200 + 1,200
// cases at threshold 0.84) so a real regression fails and sampling noise does not.
describe('screening accuracy on a seeded labelled set', () => {
  let screener: Screener
  let cases: EvaluationCase[]
  beforeAll(async () => {
    const lists = await Promise.all([loadSdn(), loadUn()])
    screener = buildScreener(lists)
    cases = generateEvaluationSet(lists, { seed: 11, trueMatches: 300, nonMatches: 300 })
  })

  it('is deterministic for a seed', async () => {
    expect(seededRandom(3)()).toBe(seededRandom(3)())
    expect(cases.filter((testCase) => testCase.expected !== null)).toHaveLength(300)
    expect(new Set(cases.map((testCase) => testCase.kind)).size).toBe(8)
  })

  it('keeps precision and recall above their floors, by name alone and with date of birth', () => {
    const nameOnly = evaluate(screener, cases, false)
    expect(nameOnly.recall).toBeGreaterThanOrEqual(0.95)
    expect(nameOnly.precision).toBeGreaterThanOrEqual(0.93)
    const withDate = evaluate(screener, cases, true)
    expect(withDate.recall).toBeGreaterThanOrEqual(0.96)
    expect(withDate.precision).toBeGreaterThanOrEqual(0.98)
  })
})
