import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { TreeExplainer } from '../../models/explain.js'
import { FEATURE_NAMES } from '../../models/features.js'
import { readOnnxModel } from '../../models/onnx-model.js'
import { goldenRows, SHIPPED_MODEL_DIRECTORY } from './shipped.js'

const model = readOnnxModel(readFileSync(`${SHIPPED_MODEL_DIRECTORY}model.onnx`))
const explainer = TreeExplainer.fromOnnx(model, FEATURE_NAMES)
const vectorOf = (features: ReadonlyArray<number | null>): Float32Array => Float32Array.from(features, (value) => (value === null ? Number.NaN : value))

describe('TreeExplainer (Saabas path attribution from the ONNX attributes)', () => {
  it('reads the trainer\'s metadata and one tree ensemble', () => {
    expect(model.inputs).toEqual(['features'])
    expect(model.outputs).toEqual(['margin', 'probability'])
    expect(model.metadata['pitboss.feature_contract']).toBe('pitboss.withdrawal-features@1')
  })

  it('gives contributions that sum to the margin minus the base value, and the margin is the trainer\'s', () => {
    for (const row of goldenRows()) {
      const explanation = explainer.explain(vectorOf(row.features))
      const sum = explanation.contributions.reduce((total, value) => total + value, 0)
      expect(Math.abs(explanation.baseValue + sum - explanation.margin)).toBeLessThan(1e-9)
      expect(Math.abs(explanation.margin - row.margin)).toBeLessThan(1e-5)
    }
  })

  it('matches xgboost\'s own Saabas contributions (pred_contribs, approx_contribs)', () => {
    for (const row of goldenRows()) {
      const explanation = explainer.explain(vectorOf(row.features))
      explanation.contributions.forEach((value, index) => expect(Math.abs(value - (row.saabasContributions[index] as number))).toBeLessThan(1e-5))
      expect(Math.abs(explanation.baseValue - (row.saabasContributions.at(-1) as number))).toBeLessThan(1e-5)
    }
  })

  it('lists the top contributions by absolute size, with the feature values', () => {
    const row = goldenRows().find((candidate) => candidate.probability > 0.9) ?? goldenRows()[0]
    const vector = vectorOf(row!.features)
    const top = explainer.top(vector, explainer.explain(vector), 3)
    expect(top).toHaveLength(3)
    expect(Math.abs(top[0]!.contribution)).toBeGreaterThanOrEqual(Math.abs(top[1]!.contribution))
    expect(FEATURE_NAMES).toContain(top[0]!.feature)
  })

  it('refuses a model without a tree ensemble', () => {
    expect(() => TreeExplainer.fromOnnx({ ...model, nodes: model.nodes.filter((node) => node.opType !== 'TreeEnsembleRegressor') }, FEATURE_NAMES)).toThrow(/RISK_ERR_MODEL_MISMATCH/)
  })
})
