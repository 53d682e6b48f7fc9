/**
 * Out-of-sample check of a model on a simulated population: simulates one seed (by default the
 * demo's: seed 7, 2000 players, 1 day), replays it through the same pipeline code as the engine
 * (bench/replay.ts: codec, partition tasks, detectors, rule set, the model service as champion)
 * and compares the model's verdicts with the simulator's planted typologies.
 *
 * A withdrawal request is "planted" by the rule the training set uses (export-training-set.ts,
 * `typologyLabeller`): its player is named by a typology label and the request is at or after the
 * label's `fromMs`. Only the engine's first decision per withdrawal is counted; a decision without
 * a model score (a hard stop decided first) is counted apart.
 *
 * Usage (from the repository root):
 *   npx tsx models/training/evaluate-on-simulation.ts [--folder withdrawal-typology-xgb-v2] [--models-dir models/shipped] [--seed 7 --players 2000 --days 1]
 *
 * Example: const report = await evaluateOnSimulation({ modelsDir, folder: SHIPPED_MODEL_FOLDER, seed: 7, players: 2000, days: 1, sanctionedName: null })
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { replayEvents } from '../../bench/replay.js'
import { loadSanctionedName } from '../../bench/simulator/sanctions.js'
import { simulate } from '../../bench/simulator/simulate.js'
import type { SanctionedName } from '../../bench/simulator/typologies.js'
import { systemClock } from '../../core/clock.js'
import { loadConfig } from '../../core/config.js'
import { RiskError } from '../../core/errors.js'
import { silentLogger } from '../../core/logger.js'
import type { DecisionOutcome } from '../../schemas/generated/types.js'
import { loadModelService, SHIPPED_MODEL_FOLDER, SHIPPED_MODELS_DIRECTORY } from '../service.js'
import { typologyLabeller } from './export-training-set.js'

export interface EvaluationOptions {
  readonly modelsDir: string
  readonly folder: string
  readonly seed: number
  readonly players: number
  readonly days: number
  readonly sanctionedName: SanctionedName | null
}

export interface EvaluationReport {
  readonly model: string
  readonly cutoff: number | null
  readonly decisions: number
  readonly outcomes: Readonly<Record<DecisionOutcome, number>>
  /** Decisions that carry the champion's score (the others were decided by a hard stop first). */
  readonly scored: number
  readonly scoredPlanted: number
  readonly aboveCutoff: number
  readonly aboveCutoffPlanted: number
  /** aboveCutoffPlanted / aboveCutoff; null when nothing is above. */
  readonly precision: number | null
  /** aboveCutoffPlanted / scoredPlanted; null when no planted request was scored. */
  readonly recall: number | null
  /** aboveCutoff share of the scored requests that are not planted. */
  readonly falsePositiveRate: number | null
  /** Per typology: scored planted requests and those above the cut-off. */
  readonly byTypology: Readonly<Record<string, { readonly scored: number; readonly aboveCutoff: number }>>
  readonly scoreRange: { readonly min: number; readonly median: number; readonly max: number } | null
}

export async function evaluateOnSimulation(options: EvaluationOptions): Promise<EvaluationReport> {
  const simulation = simulate({ seed: options.seed, players: options.players, days: options.days, sanctionedName: options.sanctionedName })
  const labelOf = typologyLabeller(simulation.labels)
  // The service wants a deployment file; a private one, so the real deployment is never read or written.
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'pitboss-evaluate-'))
  const models = await loadModelService({ modelsDir: options.modelsDir, deploymentFile: path.join(stateDir, 'deployment.json'), clock: systemClock, logger: silentLogger, defaultChampion: options.folder })
  try {
    const { decisions } = await replayEvents(simulation.events, { scorer: models })
    const first = decisions.filter((decision) => decision.revision === 1)
    const outcomes: Record<DecisionOutcome, number> = { APPROVE: 0, REVIEW: 0, DECLINE: 0 }
    const byTypology: Record<string, { scored: number; aboveCutoff: number }> = {}
    const scores: number[] = []
    let scored = 0, scoredPlanted = 0, aboveCutoff = 0, aboveCutoffPlanted = 0
    let cutoff: number | null = null
    for (const decision of first) {
      outcomes[decision.outcome] += 1
      if (decision.model === null) continue
      scored += 1
      scores.push(decision.model.score)
      cutoff = decision.model.cutoff
      const above = decision.model.cutoff !== null && decision.model.score >= decision.model.cutoff
      const { label, typology } = labelOf(decision)
      if (above) aboveCutoff += 1
      if (label === 1 && typology !== null) {
        scoredPlanted += 1
        const entry = byTypology[typology] ?? { scored: 0, aboveCutoff: 0 }
        byTypology[typology] = { scored: entry.scored + 1, aboveCutoff: entry.aboveCutoff + (above ? 1 : 0) }
        if (above) aboveCutoffPlanted += 1
      }
    }
    scores.sort((a, b) => a - b)
    const negatives = scored - scoredPlanted
    const current = models.current().champion
    return {
      model: current === null ? options.folder : `${current.modelId}@${current.modelVersion}`, cutoff, decisions: first.length, outcomes,
      scored, scoredPlanted, aboveCutoff, aboveCutoffPlanted,
      precision: aboveCutoff === 0 ? null : aboveCutoffPlanted / aboveCutoff,
      recall: scoredPlanted === 0 ? null : aboveCutoffPlanted / scoredPlanted,
      falsePositiveRate: negatives === 0 ? null : (aboveCutoff - aboveCutoffPlanted) / negatives,
      byTypology,
      scoreRange: scores.length === 0 ? null : { min: scores[0] as number, median: scores[Math.floor(scores.length / 2)] as number, max: scores.at(-1) as number },
    }
  } finally {
    await models.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    folder: { type: 'string', default: SHIPPED_MODEL_FOLDER }, 'models-dir': { type: 'string', default: SHIPPED_MODELS_DIRECTORY },
    seed: { type: 'string', default: '7' }, players: { type: 'string', default: '2000' }, days: { type: 'string', default: '1' },
  } })
  const [seed, players, days] = [values.seed, values.players, values.days].map(Number) as [number, number, number]
  if (![seed, players, days].every((value) => Number.isInteger(value) && value >= 0)) throw new RiskError('RISK_ERR_CONFIG_INVALID', '--seed, --players and --days must be whole numbers')
  const report = await evaluateOnSimulation({
    modelsDir: path.resolve(values['models-dir']), folder: values.folder, seed, players, days,
    sanctionedName: loadSanctionedName(loadConfig().referenceDataDir, seed),
  })
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  })
}
