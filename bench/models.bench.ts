/**
 * Benchmark of the ONNX scorer (issue 4): rows/s at batch sizes 1, 64 and 512, and the latency a
 * model adds to each withdrawal decision, beside the decision without a model, in the same run.
 * Every figure is the median of several repetitions.
 *
 * Inputs are real: the fixture replayed through the detectors (models/training/export-training-set.ts),
 * so the vectors carry the shipped model's usual mix of values and NaN.
 *
 * Run: npx tsx bench/models.bench.ts [--players 300] [--repetitions 7]
 */
import { parseArgs } from 'node:util'
import { DetectorRegistry } from '../detectors/index.js'
import { RuleSet } from '../detectors/rule-set.js'
import { extractFeatures, FEATURE_COUNT } from '../models/features.js'
import { OnnxScorer } from '../models/scorer.js'
import { buildTrainingSet, DEFAULT_RULE_SET_PATH } from '../models/training/export-training-set.js'
import { EventProcessor, newPlayerState, type PlayerState } from '../pipelines/processor.js'
import { toInputEvent } from '../schemas/adapters.js'
import type { InputEvent, WithdrawalEvent } from '../schemas/domain.js'
import { generateFixture } from './fixture.js'

const MODEL_DIRECTORY = new URL('../models/shipped/withdrawal-burst-xgb-v1/', import.meta.url).pathname

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}
const format = (value: number, digits = 0): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { players: { type: 'string', default: '300' }, repetitions: { type: 'string', default: '7' } } })
  const repetitions = Number(values.repetitions)
  const registry = new DetectorRegistry()
  const ruleSet = RuleSet.load(DEFAULT_RULE_SET_PATH, registry)
  const events = generateFixture({ seed: 11, players: Number(values.players), days: 7 })
  const rows = buildTrainingSet(events, ruleSet, registry)
  const vectors = new Float32Array(rows.length * FEATURE_COUNT)
  rows.forEach((row, index) => vectors.set(row.features, index * FEATURE_COUNT))
  const scorer = await OnnxScorer.load(MODEL_DIRECTORY)
  process.stdout.write(`model ${scorer.key}, ${rows.length} withdrawal vectors of ${FEATURE_COUNT} features, node ${process.version}, ${repetitions} repetitions (medians)\n\n`)

  // Throughput: score every vector in batches of `batchSize`, repeatedly for about 300 ms.
  process.stdout.write('batch   ONNX rows/s   µs/batch   JS tree walk rows/s (baseline: same trees, explain path)\n')
  for (const batchSize of [1, 64, 512]) {
    const batches = Math.floor(rows.length / batchSize)
    const onnxRates: number[] = []
    const walkRates: number[] = []
    for (let repetition = 0; repetition < repetitions; repetition += 1) {
      let scored = 0
      const startMs = performance.now()
      while (performance.now() - startMs < 300) {
        for (let batch = 0; batch < batches && performance.now() - startMs < 300; batch += 1) {
          await scorer.score(vectors.subarray(batch * batchSize * FEATURE_COUNT, (batch + 1) * batchSize * FEATURE_COUNT), batchSize)
          scored += batchSize
        }
      }
      onnxRates.push(scored / ((performance.now() - startMs) / 1000))
      const walkStartMs = performance.now()
      let walked = 0
      for (let row = 0; row < rows.length; row += 1) {
        scorer.explainer.explain(vectors.subarray(row * FEATURE_COUNT, (row + 1) * FEATURE_COUNT))
        walked += 1
      }
      walkRates.push(walked / ((performance.now() - walkStartMs) / 1000))
    }
    const rate = median(onnxRates)
    process.stdout.write(`${String(batchSize).padStart(5)}   ${format(rate).padStart(11)}   ${format((batchSize / rate) * 1e6, 1).padStart(8)}   ${format(median(walkRates)).padStart(11)}\n`)
  }

  // Added latency per decision: replay the fixture; at each withdrawal request time the decision
  // step as it runs today (baseline) and, separately, features + ONNX score (batch of 1) + top-5 explanation.
  const processor = new EventProcessor(registry)
  const baselineRuns: number[] = []
  const addedRuns: number[] = []
  const scoreOnlyRuns: number[] = []
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    const players = new Map<string, PlayerState>()
    const baseline: number[] = []
    const added: number[] = []
    const scoreOnly: number[] = []
    let streamTimeMs = 0
    for (const [offset, fixtureEvent] of events.entries()) {
      const converted = toInputEvent(fixtureEvent.topic, fixtureEvent.value as never)
      if (!converted.ok) continue
      const event = converted.event as InputEvent
      streamTimeMs = Math.max(streamTimeMs, event.eventTimeMs)
      const before = players.get(event.playerId) ?? newPlayerState()
      const isRequest = event.kind === 'withdrawal' && event.type === 'REQUESTED'
      const startMs = performance.now()
      const result = processor.process(event, before, ruleSet, { topic: fixtureEvent.topic, partition: 0, offset }, streamTimeMs)
      if (isRequest) {
        baseline.push(performance.now() - startMs)
        const modelStartMs = performance.now()
        const vector = extractFeatures(before, event as WithdrawalEvent)
        const scoreStartMs = performance.now()
        await scorer.score(vector, 1)
        scoreOnly.push(performance.now() - scoreStartMs)
        scorer.explain(vector, 5)
        added.push(performance.now() - modelStartMs)
      }
      players.set(event.playerId, result.player)
    }
    baselineRuns.push(median(baseline))
    addedRuns.push(median(added))
    scoreOnlyRuns.push(median(scoreOnly))
  }
  process.stdout.write(`\nper decision (median µs): decision step without model ${format(median(baselineRuns) * 1000, 1)}; ` +
    `added by the model ${format(median(addedRuns) * 1000, 1)} (of which ONNX run, batch 1: ${format(median(scoreOnlyRuns) * 1000, 1)})\n`)
  await scorer.release()
}

await main()
