import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../core/clock.js'
import { isRiskError } from '../../core/errors.js'
import { FEATURE_COUNT } from '../../models/features.js'
import { ModelRegistry, OnnxScorer } from '../../models/scorer.js'
import { goldenBatch, goldenRows, SHIPPED_MODEL_DIRECTORY } from './shipped.js'

let scorer: OnnxScorer
let temporary: string

beforeAll(async () => {
  scorer = await OnnxScorer.load(SHIPPED_MODEL_DIRECTORY)
  temporary = mkdtempSync(path.join(os.tmpdir(), 'pitboss-models-'))
})
afterAll(async () => {
  await scorer.release()
  rmSync(temporary, { recursive: true, force: true })
})

/** The manifest as a test edits it: loosely typed on purpose, to break it in ways the type forbids. */
interface LooseManifest { featureContract: { features: Array<{ name: string }> }; sha256: string; calibration?: unknown }

/** A copy of the shipped model folder with its manifest edited by `edit`. */
function editedCopy(name: string, edit: (manifest: LooseManifest) => void): string {
  const directory = path.join(temporary, name)
  cpSync(SHIPPED_MODEL_DIRECTORY, directory, { recursive: true })
  const manifest = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as LooseManifest
  edit(manifest)
  writeFileSync(path.join(directory, 'manifest.json'), JSON.stringify(manifest))
  return directory
}

async function refusal(directory: string): Promise<string> {
  try {
    await OnnxScorer.load(directory)
  } catch (error) {
    expect(isRiskError(error, 'RISK_ERR_MODEL_MISMATCH')).toBe(true)
    return (error as Error).message
  }
  throw new Error('the model was accepted')
}

describe('OnnxScorer', () => {
  it('reproduces the trainer\'s golden probabilities and margins within 1e-5 in one batch', async () => {
    const rows = goldenRows()
    expect(rows.length).toBeGreaterThanOrEqual(50)
    const scores = await scorer.score(goldenBatch(rows), rows.length)
    expect(scores.modelId).toBe('withdrawal-typology-xgb')
    rows.forEach((row, index) => {
      expect(Math.abs((scores.probabilities[index] as number) - row.probability)).toBeLessThan(1e-5)
      expect(Math.abs((scores.margins[index] as number) - row.margin)).toBeLessThan(1e-5)
    })
  })

  it('gives the same score to a row alone as inside a batch', async () => {
    const rows = goldenRows()
    const batch = goldenBatch(rows)
    const whole = await scorer.score(batch, rows.length)
    const alone = await scorer.score(batch.slice(7 * FEATURE_COUNT, 8 * FEATURE_COUNT), 1)
    expect(alone.probabilities[0]).toBe(whole.probabilities[7])
  })

  it('refuses a manifest with a feature too few', async () => {
    const directory = editedCopy('short', (manifest) => { manifest.featureContract.features.pop() })
    expect(await refusal(directory)).toMatch(/lists \d+ features .* contract has \d+/)
  })

  it('refuses a manifest whose feature names differ', async () => {
    const directory = editedCopy('renamed', (manifest) => { manifest.featureContract.features[3]!.name = 'tier_gold' })
    expect(await refusal(directory)).toMatch(/column 3: tier_gold/)
  })

  it('refuses a model file that is not the one the manifest names', async () => {
    const directory = editedCopy('tampered', (manifest) => { manifest.sha256 = '0'.repeat(64) })
    expect(await refusal(directory)).toMatch(/sha256/)
  })

  it('refuses a manifest without a calibrated cut-off', async () => {
    const directory = editedCopy('uncalibrated', (manifest) => { delete manifest.calibration })
    expect(await refusal(directory)).toMatch(/cutoffProbability/)
  })

  it('refuses a batch of the wrong width', async () => {
    await expect(scorer.score(new Float32Array(FEATURE_COUNT + 1), 1)).rejects.toThrow(/RISK_ERR_INVALID_FIELD/)
  })
})

describe('ModelRegistry', () => {
  it('keeps the champion deciding when a mismatched model is refused', async () => {
    const registry = new ModelRegistry(new ManualClock(1_000))
    registry.activate(scorer, 'alice')
    const bad = editedCopy('bad-for-registry', (manifest) => { manifest.featureContract.features.reverse() })
    await expect(OnnxScorer.load(bad).then((loaded) => registry.activate(loaded, 'mallory'))).rejects.toThrow(/RISK_ERR_MODEL_MISMATCH/)
    expect(registry.champion).toBe(scorer)
    const rows = goldenRows().slice(0, 3)
    const scores = await registry.score(goldenBatch(rows), rows.length)
    expect(scores.champion?.probabilities.length).toBe(3)
    expect(registry.audit.map((entry) => entry.actor)).toEqual(['alice'])
  })

  it('activates, shadows and rolls back, auditing each change', async () => {
    const clock = new ManualClock(5_000)
    const registry = new ModelRegistry(clock)
    const challenger = await OnnxScorer.load(SHIPPED_MODEL_DIRECTORY)
    try {
      registry.activate(scorer, 'alice')
      clock.advance(10)
      registry.setShadow(challenger, 'bob')
      const rows = goldenRows().slice(0, 4)
      const both = await registry.score(goldenBatch(rows), rows.length)
      expect(both.shadow?.probabilities).toEqual(both.champion?.probabilities)
      registry.activate(challenger, 'bob')
      expect(registry.champion).toBe(challenger)
      expect(registry.shadow).toBeNull()
      registry.rollback('carol')
      expect(registry.champion).toBe(scorer)
      expect(() => registry.rollback('carol')).toThrow(/no previous champion/)
      expect(registry.audit.map((entry) => [entry.action, entry.actor, entry.atMs])).toEqual([
        ['activate', 'alice', 5_000], ['shadow', 'bob', 5_010], ['activate', 'bob', 5_010], ['rollback', 'carol', 5_010],
      ])
    } finally {
      await challenger.release()
    }
  })

  it('scores nothing before a champion is activated', async () => {
    const registry = new ModelRegistry(new ManualClock())
    expect(await registry.score(new Float32Array(FEATURE_COUNT), 1)).toEqual({ champion: null, shadow: null })
  })
})
