/**
 * Benchmark of the ONNX scorer (issue 4): rows/s at batch sizes 1, 64 and 512, and the latency a
 * model adds to each withdrawal decision, beside the decision without a model, in the same run.
 * Every figure is the median of several repetitions.
 *
 * Two layers are measured: the bare `OnnxScorer` (one ONNX run), and the `ModelService` the
 * engine calls (`scoreBatch`/`scoreOne`: ONNX run + top-5 explanation per row), with the champion
 * alone and with one shadow beside it (a shadow doubles the ONNX work). Per decision the service's
 * `scoreOne` is reported as median and p99.
 *
 * Inputs are real: the fixture replayed through the detectors (models/training/export-training-set.ts),
 * so the vectors carry the shipped model's usual mix of values and NaN.
 *
 * Run: npx tsx bench/models.bench.ts [--players 300] [--repetitions 7]
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { systemClock } from '../core/clock.js'
import { silentLogger } from '../core/logger.js'
import { DetectorRegistry } from '../detectors/index.js'
import { RuleSet } from '../detectors/rule-set.js'
import { extractFeatures, FEATURE_COUNT } from '../models/features.js'
import { OnnxScorer } from '../models/scorer.js'
import { loadModelService, SHIPPED_MODEL_FOLDER, type ModelService } from '../models/service.js'
import { buildTrainingSet, DEFAULT_RULE_SET_PATH } from '../models/training/export-training-set.js'
import { EventProcessor, newPlayerState, type PlayerState } from '../pipelines/processor.js'
import { toInputEvent } from '../schemas/adapters.js'
import type { InputEvent, WithdrawalEvent } from '../schemas/domain.js'
import { generateFixture } from './fixture.js'

const MODEL_DIRECTORY = new URL('../models/shipped/withdrawal-typology-xgb-v2/', import.meta.url).pathname

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}
/** The value at quantile `q` (0..1) of `values`, nearest rank. */
const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
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
  // Two services over a scratch models folder: the shipped model alone, and with a copy of it
  // (another version) shadowing. Nothing is written outside the scratch folder.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'pitboss-models-bench-'))
  const modelsDir = path.join(scratch, 'models')
  mkdirSync(modelsDir)
  cpSync(MODEL_DIRECTORY, path.join(modelsDir, SHIPPED_MODEL_FOLDER), { recursive: true })
  const shadowManifest = path.join(modelsDir, 'shadow-copy', 'manifest.json')
  cpSync(MODEL_DIRECTORY, path.join(modelsDir, 'shadow-copy'), { recursive: true })
  writeFileSync(shadowManifest, JSON.stringify({ ...(JSON.parse(readFileSync(shadowManifest, 'utf8')) as object), modelVersion: '1.0.0-shadow' }))
  const serviceOptions = { modelsDir, clock: systemClock, logger: silentLogger, defaultChampion: SHIPPED_MODEL_FOLDER }
  const championOnly = await loadModelService({ ...serviceOptions, deploymentFile: path.join(scratch, 'alone.json') })
  const withShadow = await loadModelService({ ...serviceOptions, deploymentFile: path.join(scratch, 'with-shadow.json') })
  await withShadow.shadow('shadow-copy', 'bench')
  try {
    await measure(scorer, championOnly, withShadow, { rows, vectors, events, ruleSet, registry, repetitions })
  } finally {
    await Promise.all([championOnly.close(), withShadow.close(), scorer.release()])
    rmSync(scratch, { recursive: true, force: true })
  }
}

interface Inputs {
  readonly rows: ReturnType<typeof buildTrainingSet>
  readonly vectors: Float32Array
  readonly events: ReturnType<typeof generateFixture>
  readonly ruleSet: RuleSet
  readonly registry: DetectorRegistry
  readonly repetitions: number
}

/** Rows/s of `scoreBatchOf` over all vectors in batches of `batchSize`, for about 300 ms. */
async function rowsPerSecond(rowCount: number, batchSize: number, scoreBatchOf: (start: number) => Promise<unknown>): Promise<number> {
  const batches = Math.floor(rowCount / batchSize)
  let scored = 0
  const startMs = performance.now()
  while (performance.now() - startMs < 300) {
    for (let batch = 0; batch < batches && performance.now() - startMs < 300; batch += 1) {
      await scoreBatchOf(batch * batchSize)
      scored += batchSize
    }
  }
  return scored / ((performance.now() - startMs) / 1000)
}

async function measure(scorer: OnnxScorer, championOnly: ModelService, withShadow: ModelService, inputs: Inputs): Promise<void> {
  const { rows, vectors, events, ruleSet, registry, repetitions } = inputs
  process.stdout.write(`model ${scorer.key}, ${rows.length} withdrawal vectors of ${FEATURE_COUNT} features, node ${process.version}, ${repetitions} repetitions (medians)\n\n`)

  // Throughput: score every vector in batches of `batchSize`, repeatedly for about 300 ms.
  process.stdout.write('rows/s by batch size. ONNX: OnnxScorer.score alone; service: ModelService.scoreBatch (ONNX + top-5 explanation per row),\n' +
    'champion alone and with one shadow; JS tree walk: the explain path alone (same trees)\n')
  process.stdout.write('batch   ONNX rows/s   µs/batch   service rows/s   + 1 shadow rows/s   JS tree walk rows/s\n')
  const rowVectors = Array.from({ length: rows.length }, (_, row) => vectors.subarray(row * FEATURE_COUNT, (row + 1) * FEATURE_COUNT))
  for (const batchSize of [1, 64, 512]) {
    const onnxRates: number[] = []
    const serviceRates: number[] = []
    const shadowRates: number[] = []
    const walkRates: number[] = []
    for (let repetition = 0; repetition < repetitions; repetition += 1) {
      onnxRates.push(await rowsPerSecond(rows.length, batchSize, (start) => scorer.score(vectors.subarray(start * FEATURE_COUNT, (start + batchSize) * FEATURE_COUNT), batchSize)))
      serviceRates.push(await rowsPerSecond(rows.length, batchSize, (start) => championOnly.scoreBatch(rowVectors.slice(start, start + batchSize))))
      shadowRates.push(await rowsPerSecond(rows.length, batchSize, (start) => withShadow.scoreBatch(rowVectors.slice(start, start + batchSize))))
      const walkStartMs = performance.now()
      for (const vector of rowVectors) scorer.explainer.explain(vector)
      walkRates.push(rows.length / ((performance.now() - walkStartMs) / 1000))
    }
    const rate = median(onnxRates)
    process.stdout.write(`${String(batchSize).padStart(5)}   ${format(rate).padStart(11)}   ${format((batchSize / rate) * 1e6, 1).padStart(8)}   ` +
      `${format(median(serviceRates)).padStart(14)}   ${format(median(shadowRates)).padStart(17)}   ${format(median(walkRates)).padStart(19)}\n`)
  }

  // Added latency per decision: replay the fixture; at each withdrawal request time the decision
  // step as it runs today (baseline) and, separately, features + ONNX score (batch of 1) + top-5 explanation.
  const processor = new EventProcessor(registry)
  const baselineRuns: number[] = []
  const addedRuns: number[] = []
  const scoreOnlyRuns: number[] = []
  const serviceAloneRuns = { median: [] as number[], p99: [] as number[] }
  const serviceShadowRuns = { median: [] as number[], p99: [] as number[] }
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    const players = new Map<string, PlayerState>()
    const baseline: number[] = []
    const added: number[] = []
    const scoreOnly: number[] = []
    const serviceAlone: number[] = []
    const serviceShadow: number[] = []
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
        const serviceStartMs = performance.now()
        await championOnly.scoreOne(vector)
        serviceAlone.push(performance.now() - serviceStartMs)
        const shadowStartMs = performance.now()
        await withShadow.scoreOne(vector)
        serviceShadow.push(performance.now() - shadowStartMs)
      }
      players.set(event.playerId, result.player)
    }
    baselineRuns.push(median(baseline))
    addedRuns.push(median(added))
    scoreOnlyRuns.push(median(scoreOnly))
    for (const [samples, runs] of [[serviceAlone, serviceAloneRuns], [serviceShadow, serviceShadowRuns]] as const) {
      runs.median.push(median(samples))
      runs.p99.push(quantile(samples, 0.99))
    }
  }
  process.stdout.write(`\nper decision (median µs): decision step without model ${format(median(baselineRuns) * 1000, 1)}; ` +
    `added by the model ${format(median(addedRuns) * 1000, 1)} (of which ONNX run, batch 1: ${format(median(scoreOnlyRuns) * 1000, 1)})\n`)
  const microseconds = (runs: readonly number[]): string => format(median(runs) * 1000, 1)
  process.stdout.write(`added per decision by ModelService.scoreOne (µs, features excluded): champion alone median ${microseconds(serviceAloneRuns.median)}, p99 ${microseconds(serviceAloneRuns.p99)}; ` +
    `champion + 1 shadow median ${microseconds(serviceShadowRuns.median)}, p99 ${microseconds(serviceShadowRuns.p99)}\n`)
}

await main()
