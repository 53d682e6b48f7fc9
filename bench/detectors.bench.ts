/**
 * Events per second through every registered detector, replayed on the in-memory driver (no
 * broker), beside a pass-through baseline measured in the same run: the same driver, codec and
 * fixture with a rule set that disables every detector (decode, event-time merge, profile
 * updates, decisions and checkpoints to the memory store still happen). The issue's aim is
 * >= 100k events/s per core through all detectors.
 *
 * The driver runs on one event loop, so wall-clock events/s is events/s on one core; the CPU
 * figure (user + system of the process, GC threads included) is printed beside it.
 *
 * Run: npx tsx bench/detectors.bench.ts [--players 2200] [--days 4] [--repetitions 5] [--partitions 8] [--seed 7]
 *        [--batch-size 500] [--per-detector]
 * `--per-detector` adds one run with every step timed: µs per step, hits, and the mean JSON
 * bytes each detector keeps per player (what every checkpoint of that player writes).
 * Profile: node --import tsx --cpu-prof --cpu-prof-dir .pitboss/profiles bench/detectors.bench.ts --repetitions 1
 * Young-generation size (GC was ~20% of the profile): node --max-semi-space-size=64 --import tsx bench/detectors.bench.ts
 * Numbers are only comparable on an otherwise idle machine; the CPU-second figure is the steadier one.
 */
import os from 'node:os'
import { parseArgs } from 'node:util'
import { INPUT_PARTITIONS } from '../core/topics.js'
import { detectorKey, type AnyDetector } from '../detectors/detector.js'
import { DETECTORS, DetectorRegistry } from '../detectors/index.js'
import { RuleSet, type RuleSetDocument } from '../detectors/rule-set.js'
import { generateFixture } from './fixture.js'
import { createReplay, type EncodedEvent, type ReplayRun } from './lib/replay.js'

const DEFAULT_RULE_SET_PATH = new URL('../detectors/rule-sets/default.json', import.meta.url).pathname

const { values: args } = parseArgs({
  options: {
    players: { type: 'string', default: '2200' },
    days: { type: 'string', default: '4' },
    repetitions: { type: 'string', default: '5' },
    partitions: { type: 'string', default: String(INPUT_PARTITIONS) },
    seed: { type: 'string', default: '7' },
    'batch-size': { type: 'string', default: '500' },
    'per-detector': { type: 'boolean', default: false },
  },
})
const say = (line: string): void => void process.stdout.write(`${line}\n`)
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
const perSecond = (run: ReplayRun): number => run.events / (run.elapsedMs / 1000)
const perCpuSecond = (run: ReplayRun): number => run.events / (run.cpuMs / 1000)
const thousands = (value: number): string => `${(value / 1000).toFixed(1)}k`

/** The same rule set with every detector off: what the pipeline costs without detection. */
function passThrough(document: RuleSetDocument): RuleSetDocument {
  const detectors = Object.fromEntries(Object.entries(document.detectors).map(([id, rule]) => [id, { ...rule, enabled: false }]))
  return { version: `${document.version}+pass-through`, description: 'benchmark baseline: every detector disabled', detectors, overrides: [] }
}

interface StepCost { steps: number; totalMs: number; hits: number }

/** One more run with each detector's step timed, and the state each keeps per player. */
async function perDetector(document: RuleSetDocument, input: readonly EncodedEvent[], partitions: number, batchSize: number): Promise<void> {
  const costs = new Map<string, StepCost>()
  const timed = DETECTORS.map((detector): AnyDetector => {
    const cost: StepCost = { steps: 0, totalMs: 0, hits: 0 }
    costs.set(detector.id, cost)
    return {
      ...detector,
      step(state, event, params, context) {
        const startMs = performance.now()
        const result = detector.step(state, event, params, context)
        cost.totalMs += performance.now() - startMs
        cost.steps += 1
        if (result.observation?.hit === true) cost.hits += 1
        return result
      },
    }
  })
  const registry = new DetectorRegistry(timed)
  const replay = await createReplay({ registry, ruleSet: RuleSet.parse(document, registry), partitions, batchSize, fetchSize: batchSize })
  const run = await replay.run(input, { inspectState: true })
  const meanBytes = run.state?.meanBytes ?? {}
  const stepMs = [...costs.values()].reduce((sum, cost) => sum + cost.totalMs, 0)
  say(`per detector (one timed run: ${(stepMs / run.events * 1000).toFixed(1)} µs of detector steps per event; ${run.state?.players ?? 0} players, ${meanBytes['(whole record)'] ?? 0} bytes of state each):`)
  say(`  ${'detector'.padEnd(30)} ${'steps'.padStart(8)} ${'µs/step'.padStart(8)} ${'share'.padStart(6)} ${'hits'.padStart(7)} ${'bytes/player'.padStart(13)}`)
  for (const [detectorId, cost] of [...costs].sort((a, b) => b[1].totalMs - a[1].totalMs)) {
    const key = detectorKey(registry.get(detectorId) as AnyDetector)
    const perStep = cost.steps === 0 ? 0 : (cost.totalMs / cost.steps) * 1000
    say(`  ${key.padEnd(30)} ${String(cost.steps).padStart(8)} ${perStep.toFixed(2).padStart(8)} ${`${((100 * cost.totalMs) / stepMs).toFixed(1)}%`.padStart(6)} ${String(cost.hits).padStart(7)} ${String(meanBytes[detectorId] ?? 0).padStart(13)}`)
  }
  say(`  ${'(profile, decided)'.padEnd(30)} ${''.padStart(8)} ${''.padStart(8)} ${''.padStart(6)} ${''.padStart(7)} ${String((meanBytes['(profile)'] ?? 0) + (meanBytes['(decided)'] ?? 0)).padStart(13)}`)
}

async function main(): Promise<void> {
  const repetitions = Number(args.repetitions)
  const partitions = Number(args.partitions)
  const batchSize = Number(args['batch-size'])
  const registry = new DetectorRegistry()
  const full = RuleSet.load(DEFAULT_RULE_SET_PATH, registry)
  const baseline = RuleSet.parse(passThrough(full.document), registry)
  const enabled = registry.all().filter((detector) => full.document.detectors[detector.id]?.enabled === true)

  const cpus = os.cpus()
  say('pitboss detector benchmark (in-memory replay, no broker)')
  say(`machine: ${cpus.length} cpus (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.arch()} ${os.release()}, node ${process.version}`)
  say(`rule set ${full.version}: ${enabled.length} of ${registry.all().length} registered detectors enabled by default: ${enabled.map(detectorKey).join(', ')}`)

  const fixture = generateFixture({ seed: Number(args.seed), players: Number(args.players), days: Number(args.days) })
  const fullReplay = await createReplay({ registry, ruleSet: full, partitions, batchSize, fetchSize: batchSize })
  const baselineReplay = await createReplay({ registry, ruleSet: baseline, partitions, batchSize, fetchSize: batchSize })
  const input = fullReplay.encode(fixture)
  const byTopic = new Map<string, number>()
  for (const event of input) byTopic.set(event.topic, (byTopic.get(event.topic) ?? 0) + 1)
  say(`fixture: seed ${args.seed}, ${args.players} players, ${args.days} days, ${input.length} events (${[...byTopic].map(([topic, count]) => `${topic} ${count}`).join(', ')}), ${partitions} partitions`)

  // One warm-up run each (JIT), then alternate so drift (thermal, GC) hits both alike.
  await baselineReplay.run(input)
  await fullReplay.run(input)
  const baselineRuns: ReplayRun[] = []
  const fullRuns: ReplayRun[] = []
  for (let repetition = 1; repetition <= repetitions; repetition += 1) {
    const base = await baselineReplay.run(input)
    const all = await fullReplay.run(input)
    baselineRuns.push(base)
    fullRuns.push(all)
    say(`  #${repetition}  pass-through ${thousands(perSecond(base))} ev/s (${base.elapsedMs.toFixed(0)} ms)   all detectors ${thousands(perSecond(all))} ev/s (${all.elapsedMs.toFixed(0)} ms, ${all.alerts} alerts)`)
  }

  const last = fullRuns[fullRuns.length - 1] as ReplayRun
  const lastBase = baselineRuns[baselineRuns.length - 1] as ReplayRun
  if (last.deadLetters > 0 || lastBase.deadLetters > 0) throw new Error(`the replay dead-lettered events (${last.deadLetters} / ${lastBase.deadLetters}): the benchmark input is broken`)
  if (last.decisions !== lastBase.decisions || last.decisions === 0) throw new Error(`decision counts differ: ${last.decisions} with detectors, ${lastBase.decisions} without`)

  const baseRate = median(baselineRuns.map(perSecond))
  const fullRate = median(fullRuns.map(perSecond))
  say(`median of ${repetitions} (events/s on one core, wall clock):`)
  say(`  pass-through baseline  ${thousands(baseRate)} ev/s   (${thousands(median(baselineRuns.map(perCpuSecond)))} per CPU-second)`)
  say(`  all detectors          ${thousands(fullRate)} ev/s   (${thousands(median(fullRuns.map(perCpuSecond)))} per CPU-second)`)
  say(`  ratio all/baseline     ${(fullRate / baseRate).toFixed(2)}   (detector cost ${((1 / fullRate - 1 / baseRate) * 1e6).toFixed(2)} µs/event)`)
  say(`  decisions ${last.decisions}, alerts ${last.alerts} per run; aim >= 100k ev/s per core: ${fullRate >= 100_000 ? 'met' : 'NOT met'}`)
  if (args['per-detector']) await perDetector(full.document, input, partitions, batchSize)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
