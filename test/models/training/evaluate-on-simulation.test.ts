/**
 * The out-of-sample check on a small simulated day through the real replay and the shipped model:
 * the counts are consistent with each other and the planted cash-outs are flagged.
 */
import { describe, expect, it } from 'vitest'
import { SHIPPED_MODEL_FOLDER, SHIPPED_MODELS_DIRECTORY } from '../../../models/service.js'
import { evaluateOnSimulation } from '../../../models/training/evaluate-on-simulation.js'

describe('evaluateOnSimulation', () => {
  it('scores a simulated day with the shipped model and counts the planted requests above its cut-off', async () => {
    const report = await evaluateOnSimulation({ modelsDir: SHIPPED_MODELS_DIRECTORY, folder: SHIPPED_MODEL_FOLDER, seed: 301, players: 300, days: 1, sanctionedName: null })
    expect(report.model).toBe('withdrawal-typology-xgb@2.0.0')
    expect(report.decisions).toBe(report.outcomes.APPROVE + report.outcomes.REVIEW + report.outcomes.DECLINE)
    expect(report.scored).toBeGreaterThan(0)
    expect(report.scoredPlanted).toBeGreaterThan(0)
    expect(report.aboveCutoffPlanted).toBeLessThanOrEqual(report.aboveCutoff)
    // Not everything is flagged (the v1 model's failure on this population), and planted cash-outs are.
    expect(report.aboveCutoff).toBeLessThan(report.scored)
    expect(report.recall).toBeGreaterThan(0.5)
    expect(report.outcomes.APPROVE).toBeGreaterThan(0)
  }, 30_000)
})
