/**
 * Events per second through every registered detector, two ways, each beside a baseline measured
 * in the same run (runs alternate, so drift hits both alike):
 * - whole replay on the in-memory driver (no broker): codec, decoder, event-time merge, profile,
 *   detectors, decisions, checkpoints to the memory store; baseline = the same with a rule set that
 *   disables every detector;
 * - detectors only (the issue's "events/s through all detectors"): the same input decoded once,
 *   then stepped through EventProcessor.process with player states in a Map; baseline = the same
 *   loop with every detector disabled. It also prints a sha256 of every output, so a change that
 *   must not change detection can be checked (equal before and after), and checks that the
 *   outputs are the same with every state round-tripped through JSON between batches.
 * The issue's aim is >= 100k events/s per core through all detectors.
 *
 * The loops run on one event loop, so wall-clock events/s is events/s on one core; the CPU figure
 * (user + system of the process, GC threads included) is printed beside it.
 *
 * Measured on this machine (2 vCPU EPYC, node 20, shared with other sessions: load 3 to 10 on 2
 * cores, so single runs swing by ±30%), seed 7, 2200 players, 4 days, 201,826 events, the shipped
 * rule set 2026-11-26.3 and the pipeline of 2026-11-26 03:10. Detectors only, old and new detectors
 * alternating in one process, best of 7 (median in brackets), load ~3:
 *   detectors before issue 3's work   42.5k ev/s (34.1k)   no detectors 333k (308k)   cost 20.5 µs/event
 *   detectors after                   68.1k ev/s (56.3k)   no detectors 325k (280k)   cost 11.6 µs/event
 * (the same A/B at load ~10: 16.2k -> 23.0k ev/s, cost 56 -> 37 µs/event). Outputs identical
 * (sha256 112046d8…). The aim is not met: the remaining cost is about half detector steps (the
 * per-detector table) and half the processor's per-event work and the garbage collector.
 * Whole replay, medians of 3 at load 6 to 10 (wall clock meaningless then; per CPU-second):
 *   before: baseline 43.5k, all detectors 19.2k ev/s per CPU-second (ratio 0.44)
 *   after:  baseline 46.6k, all detectors 21.1k ev/s per CPU-second (ratio 0.45)
 * Its no-detector baseline alone is 40-60k ev/s here, below the aim before any detector runs.
 * Second round (2026-11-26 06:35-06:47, rule set 2026-11-26.4, pipeline with transfers received;
 * load 1.2 to 2.5): steps hand back the state they were given when nothing changed and the
 * processor then keeps its entry (no wrapper, record copied on the first change); one-copy list
 * helpers (windows.ts insertRecent, appendLatest); no per-step Sets, closures or unused detail
 * text. Old and new code as two copies of one tree, separate processes alternating, medians:
 *   detectors only, 10 runs each: before 70.6k ev/s (best 79.6k), no detectors 375k, ratio 0.19, cost 11.5 µs/event
 *                                 after  72.9k ev/s (best 80.7k), no detectors 398k, ratio 0.18, cost 11.2 µs/event
 *   whole replay, 3 processes x 3 runs each, per CPU-second: before baseline 49.8k, all 21.7k; after 47.4k, 20.7k
 *     (that pair was measured before the last two changes; its spread is ±15%)
 * Outputs identical (sha256 fadb98be…). Allocation (V8 sampling heap profile, which is
 * deterministic): 8.56 -> 7.26 kB per event, ~11% fewer scavenges. In wall clock that is within
 * the noise (+3%): the aim is still not met. What remains, from the profile: GC ~22%, the
 * processor's per-event work ~28% (its 26-entry detector record copied on a player's first event
 * in a batch, the megamorphic step call, the decision path), and list copies that immutable
 * state needs (night_intensity's bucket array per counted bet, rare_method's 50 payments).
 *
 * Run: npx tsx bench/detectors.bench.ts [--mode both|replay|detectors|none] [--players 2200] [--days 4] [--repetitions 5]
 *        [--partitions 8] [--seed 7] [--batch-size 500] [--per-detector]
 * `--per-detector` adds a detectors-only run with every step timed: µs per step, hits, and the mean JSON
 * bytes each detector keeps per player (what every checkpoint of that player writes).
 * Profile: node --import tsx --cpu-prof --cpu-prof-dir .pitboss/profiles bench/detectors.bench.ts --mode detectors --repetitions 1
 * Young-generation size (GC was ~20% of the profile): node --max-semi-space-size=64 --import tsx bench/detectors.bench.ts
 * Under tsx (esbuild keepNames) every named closure created on the hot path costs a __name() call,
 * ~0.3 µs each time: keep helpers at module level.
 * Numbers are only comparable on an otherwise idle machine; the CPU-second figure is the steadier one.
 */
import os from 'node:os'
import { parseArgs } from 'node:util'
import { INPUT_PARTITIONS } from '../core/topics.js'
import { detectorKey, type AnyDetector } from '../detectors/detector.js'
import { DETECTORS, DetectorRegistry } from '../detectors/index.js'
import { RuleSet, type RuleSetDocument } from '../detectors/rule-set.js'
import { generateFixture } from './fixture.js'
import { createReplay, type EncodedEvent, type Replay, type ReplayRun, type StepRun } from './lib/replay.js'

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
    mode: { type: 'string', default: 'both' },
  },
})
const say = (line: string): void => void process.stdout.write(`${line}\n`)
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
const perSecond = (run: ReplayRun | StepRun): number => run.events / (run.elapsedMs / 1000)
const perCpuSecond = (run: ReplayRun | StepRun): number => run.events / (run.cpuMs / 1000)
const thousands = (value: number): string => `${(value / 1000).toFixed(1)}k`

/** The same rule set with every detector off: what the pipeline costs without detection. */
function passThrough(document: RuleSetDocument): RuleSetDocument {
  const detectors = Object.fromEntries(Object.entries(document.detectors).map(([id, rule]) => [id, { ...rule, enabled: false }]))
  return { version: `${document.version}+pass-through`, description: 'benchmark baseline: every detector disabled', detectors, overrides: [] }
}

interface StepCost { steps: number; totalMs: number; hits: number }

/** Each detector's step timed over the pre-decoded input (after one warm-up pass), and the state each keeps per player. */
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
  // Pre-decoded and stepped (as the detectors-only figure), so the timings are the detectors' own.
  const ruleSet = RuleSet.parse(document, registry)
  const decoded = await replay.decode(input)
  replay.step(decoded, ruleSet)
  for (const cost of costs.values()) Object.assign(cost, { steps: 0, totalMs: 0, hits: 0 })
  const run = replay.step(decoded, ruleSet, { inspectState: true })
  const meanBytes = run.state?.meanBytes ?? {}
  const stepMs = [...costs.values()].reduce((sum, cost) => sum + cost.totalMs, 0)
  say(`per detector (one timed run: ${(stepMs / run.events * 1000).toFixed(1)} µs of detector steps per event; ${run.state?.players ?? 0} players, ${meanBytes['(whole record)'] ?? 0} bytes of state each):`)
  say(`  ${'detector'.padEnd(30)} ${'steps'.padStart(8)} ${'µs/step'.padStart(8)} ${'share'.padStart(6)} ${'hits'.padStart(7)} ${'bytes/player'.padStart(13)}`)
  for (const [detectorId, cost] of [...costs].sort((a, b) => b[1].totalMs - a[1].totalMs)) {
    const key = detectorKey(registry.get(detectorId) as AnyDetector)
    const perStep = cost.steps === 0 ? 0 : (cost.totalMs / cost.steps) * 1000
    say(`  ${key.padEnd(30)} ${String(cost.steps).padStart(8)} ${perStep.toFixed(2).padStart(8)} ${`${((100 * cost.totalMs) / stepMs).toFixed(1)}%`.padStart(6)} ${String(cost.hits).padStart(7)} ${String(meanBytes[detectorId] ?? 0).padStart(13)}`)
  }
  say(`  ${'(profile, withdrawals)'.padEnd(30)} ${''.padStart(8)} ${''.padStart(8)} ${''.padStart(6)} ${''.padStart(7)} ${String((meanBytes['(profile)'] ?? 0) + (meanBytes['(withdrawals)'] ?? 0)).padStart(13)}`)
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

  const mode = args.mode
  if (mode !== 'both' && mode !== 'replay' && mode !== 'detectors' && mode !== 'none') throw new Error(`--mode must be both, replay, detectors or none, not '${mode}'`)
  if (mode === 'both' || mode === 'replay') await replayFigures(fullReplay, baselineReplay, input, repetitions)
  if (mode === 'both' || mode === 'detectors') {
    const decoded = await fullReplay.decode(input)
    say(`detectors only: ${decoded.length} events decoded once, stepped through EventProcessor.process (player states in a Map, no codec, merge, store or checkpoint)`)
    // Warm-up (JIT), then alternate so drift hits both alike.
    fullReplay.step(decoded, baseline)
    fullReplay.step(decoded, full)
    const baselineRuns: StepRun[] = []
    const fullRuns: StepRun[] = []
    for (let repetition = 1; repetition <= repetitions; repetition += 1) {
      const base = fullReplay.step(decoded, baseline)
      const all = fullReplay.step(decoded, full)
      baselineRuns.push(base)
      fullRuns.push(all)
      say(`  #${repetition}  no detectors ${thousands(perSecond(base))} ev/s (${base.elapsedMs.toFixed(0)} ms)   all detectors ${thousands(perSecond(all))} ev/s (${all.elapsedMs.toFixed(0)} ms, ${all.alerts} alerts)`)
    }
    const last = fullRuns[fullRuns.length - 1] as StepRun
    if (last.decisions !== (baselineRuns[0] as StepRun).decisions || last.decisions === 0) throw new Error(`decision counts differ: ${last.decisions} with detectors, ${(baselineRuns[0] as StepRun).decisions} without`)
    summarise(repetitions, 'no detectors', baselineRuns, fullRuns, last.decisions, last.alerts)
    // What the detectors decide, as one hash: equal before and after a change that must not change detection,
    // and equal with every state round-tripped through JSON between batches (a restart from a checkpoint).
    const fingerprint = fullReplay.step(decoded, full, { fingerprint: true }).fingerprint
    const restored = fullReplay.step(decoded, full, { fingerprint: true, roundTripStates: true }).fingerprint
    say(`  outputs sha256 ${fingerprint ?? ''}; with states round-tripped through JSON between batches: ${restored === fingerprint ? 'identical' : `DIFFERENT (${restored ?? ''})`}`)
    if (restored !== fingerprint) process.exitCode = 1
  }
  if (args['per-detector']) await perDetector(full.document, input, partitions, batchSize)
}

/** Whole replays (decode, merge, profile, decisions, checkpoints), pass-through baseline beside all detectors. */
async function replayFigures(fullReplay: Replay, baselineReplay: Replay, input: readonly EncodedEvent[], repetitions: number): Promise<void> {
  say('whole replay: decode, event-time merge, profile, detectors, decisions, checkpoints to the memory store')
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

  summarise(repetitions, 'pass-through baseline', baselineRuns, fullRuns, last.decisions, last.alerts)
}

/** Medians of the runs, the ratio to the baseline and what the detectors cost per event. */
function summarise(repetitions: number, baselineLabel: string, baselineRuns: ReadonlyArray<ReplayRun | StepRun>, fullRuns: ReadonlyArray<ReplayRun | StepRun>, decisions: number, alerts: number): void {
  const baseRate = median(baselineRuns.map(perSecond))
  const fullRate = median(fullRuns.map(perSecond))
  say(`  median of ${repetitions} (events/s on one core, wall clock):`)
  say(`    ${baselineLabel.padEnd(22)} ${thousands(baseRate)} ev/s   (${thousands(median(baselineRuns.map(perCpuSecond)))} per CPU-second)`)
  say(`    ${'all detectors'.padEnd(22)} ${thousands(fullRate)} ev/s   (${thousands(median(fullRuns.map(perCpuSecond)))} per CPU-second)`)
  say(`    ${'ratio all/baseline'.padEnd(22)} ${(fullRate / baseRate).toFixed(2)}   (detector cost ${((1 / fullRate - 1 / baseRate) * 1e6).toFixed(2)} µs/event)`)
  say(`    decisions ${decisions}, alerts ${alerts} per run; aim >= 100k ev/s per core: ${fullRate >= 100_000 ? 'met' : 'NOT met'}`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
