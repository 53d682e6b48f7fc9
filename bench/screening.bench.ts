/**
 * Sanctions screening: accuracy on a seeded labelled set, latency per query against the OFAC SDN
 * list with its aliases, and rescreening throughput, each beside a baseline measured in the same
 * run (issue 7). Baselines: normalisation only (what every query pays before matching), an
 * exact lookup of the normalised name (what a screener without fuzziness costs), and the screener
 * as it was before issue 10's speed-up (test/screening/reference-screen.ts, same answers), so the
 * speed-up is a ratio from one run on one machine whatever else the machine is doing.
 *
 * Run: npx tsx bench/screening.bench.ts [--seed 7] [--cases 1200] [--players 20000] [--repetitions 5] [--threshold 0.84]
 */
import path from 'node:path'
import { loadConfig } from '../core/config.js'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { seededRandom } from '../core/seeded-random.js'
import { evaluate, generateEvaluationSet, COMMON_FAMILY_NAMES, COMMON_GIVEN_NAMES } from '../screening/evaluation.js'
import { buildScreener, type Screener } from '../screening/index.js'
import { loadOfacList } from '../screening/loaders/ofac.js'
import { loadUnConsolidatedList } from '../screening/loaders/un.js'
import { normaliseName } from '../screening/normalise.js'
import { buildReferenceScreener } from '../test/screening/reference-screen.js'

const SANCTIONS_DIRECTORY = path.join(loadConfig().referenceDataDir, 'sanctions')
const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '7' },
    cases: { type: 'string', default: '1200' },
    players: { type: 'string', default: '20000' },
    repetitions: { type: 'string', default: '5' },
    threshold: { type: 'string', default: '0.84' },
  },
})
const say = (line: string): void => void process.stdout.write(`${line}\n`)
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((left, right) => left - right)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
const percentile = (sorted: Float64Array, fraction: number): number => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number
const microseconds = (milliseconds: number): string => `${(milliseconds * 1000).toFixed(1)} µs`

interface Player { fullName: string; dateOfBirth: string; country: string }

/** Players as an operator has them: mostly ordinary names, a few listed people, all with a date of birth and a country. */
function generatePlayers(count: number, seed: number, listedNames: readonly string[]): Player[] {
  const random = seededRandom(seed)
  const countries = ['MT', 'GB', 'DE', 'SE', 'BR', 'CA', 'NG', 'IN', 'JP', 'MX']
  return Array.from({ length: count }, (_, index) => {
    const listed = index % 100 === 0 && listedNames.length > 0
    const fullName = listed
      ? (listedNames[Math.floor(random() * listedNames.length)] as string)
      : `${COMMON_GIVEN_NAMES[Math.floor(random() * COMMON_GIVEN_NAMES.length)]} ${COMMON_FAMILY_NAMES[Math.floor(random() * COMMON_FAMILY_NAMES.length)]}`
    const year = 1950 + Math.floor(random() * 55)
    return { fullName, dateOfBirth: `${year}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`, country: countries[Math.floor(random() * countries.length)] as string }
  })
}

/**
 * Per-query latency in milliseconds for each name, run `repetitions` times; the median p50/p99
 * over runs. Wall time, and the process's CPU time per query beside it: on a shared machine the
 * wall-clock tail is mostly time the process was not scheduled, which CPU time leaves out.
 */
interface Latency { p50: number; p99: number; max: number; cpuP50: number; cpuP99: number }

function latency(names: readonly string[], run: (name: string) => unknown, repetitions: number): Latency {
  const p50s: number[] = []
  const p99s: number[] = []
  const maxima: number[] = []
  const cpuP50s: number[] = []
  const cpuP99s: number[] = []
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    const times = new Float64Array(names.length)
    const cpuTimes = new Float64Array(names.length)
    names.forEach((name, index) => {
      const cpuStart = process.cpuUsage()
      const start = process.hrtime.bigint()
      run(name)
      times[index] = Number(process.hrtime.bigint() - start) / 1e6
      const cpu = process.cpuUsage(cpuStart)
      cpuTimes[index] = (cpu.user + cpu.system) / 1000
    })
    times.sort()
    cpuTimes.sort()
    p50s.push(percentile(times, 0.5))
    p99s.push(percentile(times, 0.99))
    maxima.push(times[times.length - 1] as number)
    cpuP50s.push(percentile(cpuTimes, 0.5))
    cpuP99s.push(percentile(cpuTimes, 0.99))
  }
  return { p50: median(p50s), p99: median(p99s), max: median(maxima), cpuP50: median(cpuP50s), cpuP99: median(cpuP99s) }
}

/**
 * Two contenders measured in alternating repetitions (A, B, A, B…), each the median of its own:
 * on a shared machine the load changes within seconds, and back-to-back blocks would put the
 * change into the ratio.
 */
function alternating<Item, Result>(measure: (run: (item: Item) => unknown) => Result, first: (item: Item) => unknown, second: (item: Item) => unknown, repetitions: number, combine: (results: readonly Result[]) => Result): [Result, Result] {
  const firsts: Result[] = []
  const seconds: Result[] = []
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    firsts.push(measure(first))
    seconds.push(measure(second))
  }
  return [combine(firsts), combine(seconds)]
}

const medianLatency = (results: readonly Latency[]): Latency => ({
  p50: median(results.map((result) => result.p50)),
  p99: median(results.map((result) => result.p99)),
  max: median(results.map((result) => result.max)),
  cpuP50: median(results.map((result) => result.cpuP50)),
  cpuP99: median(results.map((result) => result.cpuP99)),
})

function throughput(players: readonly Player[], run: (player: Player) => unknown, repetitions: number): number {
  const rates: number[] = []
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    const start = process.hrtime.bigint()
    for (const player of players) run(player)
    rates.push(players.length / (Number(process.hrtime.bigint() - start) / 1e9))
  }
  return median(rates)
}

async function main(): Promise<void> {
  const seed = Number(args.seed)
  const cases = Number(args.cases)
  const repetitions = Number(args.repetitions)
  const threshold = Number(args.threshold)
  const cpus = os.cpus()
  say('pitboss sanctions screening benchmark')
  say(`machine: ${cpus.length} cpus (${cpus[0]?.model.trim() ?? 'unknown'}), load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}, node ${process.version}`)

  let start = process.hrtime.bigint()
  const [sdn, un] = await Promise.all([
    loadOfacList({ listId: 'ofac-sdn', primaryPath: `${SANCTIONS_DIRECTORY}/ofac-sdn-2021/sdn.csv`, aliasPath: `${SANCTIONS_DIRECTORY}/ofac-sdn-2021/alt.csv`, addressPath: `${SANCTIONS_DIRECTORY}/ofac-sdn-2021/add.csv` }),
    loadUnConsolidatedList({ listId: 'un-consolidated', path: `${SANCTIONS_DIRECTORY}/un/UN_consolidated.xml` }),
  ])
  say(`load: SDN ${sdn.entries.length} entries (${sdn.version.version}), UN ${un.entries.length} entries (${un.version.version}) in ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0)} ms`)
  start = process.hrtime.bigint()
  const both = buildScreener([sdn, un], { threshold })
  say(`index: SDN + UN, ${both.nameCount} names, built in ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0)} ms`)
  const sdnOnly: Screener = buildScreener([sdn], { threshold })
  const sdnOnlyBefore: Screener = buildReferenceScreener([sdn], { threshold })

  // Accuracy
  const set = generateEvaluationSet([sdn, un], { seed, trueMatches: cases, nonMatches: cases })
  say('')
  say(`accuracy: ${cases} true matches + ${cases} non-matches, seed ${seed}, individuals only, query-level`)
  say('threshold  name only: precision  recall   with date of birth: precision  recall')
  for (const sweep of [0.78, 0.8, 0.82, threshold, 0.86, 0.88, 0.9].filter((value, index, all) => all.indexOf(value) === index).sort()) {
    const screener = sweep === threshold ? both : buildScreener([sdn, un], { threshold: sweep })
    const nameOnly = evaluate(screener, set, false)
    const withDate = evaluate(screener, set, true)
    say(`${sweep.toFixed(2)}${sweep === threshold ? '*' : ' '}                  ${nameOnly.precision.toFixed(3)}   ${nameOnly.recall.toFixed(3)}                          ${withDate.precision.toFixed(3)}   ${withDate.recall.toFixed(3)}`)
  }
  const chosen = evaluate(both, set, false)
  say(`at ${threshold} (name only), by kind: ${Object.entries(chosen.byKind).map(([kind, tally]) => `${kind} ${tally.alerted}/${tally.cases}`).join(', ')}`)
  say(`  missed, e.g.: ${chosen.missed.slice(0, 4).map((missed) => `'${missed.fullName}' (${missed.kind})`).join('; ')}`)
  say(`  false alerts, e.g.: ${chosen.falseAlerts.slice(0, 4).map((alert) => `'${alert.case.fullName}' → '${alert.matchedName}' ${alert.score.toFixed(2)}`).join('; ')}`)

  // Latency per query against SDN with aliases
  const names = set.map((testCase) => testCase.fullName)
  for (const name of names.slice(0, 200)) sdnOnly.screen({ fullName: name }) // warm-up
  for (const name of names.slice(0, 200)) sdnOnlyBefore.screen({ fullName: name })
  const [screenLatency, beforeLatency] = alternating<string, Latency>(
    (run) => latency(names, run, 1),
    (name: string) => sdnOnly.screen({ fullName: name }),
    (name: string) => sdnOnlyBefore.screen({ fullName: name }),
    repetitions,
    medianLatency,
  )
  const normaliseLatency = latency(names, (name) => normaliseName(name), repetitions)
  const exactLatency = latency(names, (name) => sdnOnly.exactLookup(name), repetitions)
  say('')
  say(`latency per query against SDN + aliases (${sdnOnly.nameCount} names), ${names.length} queries, median of ${repetitions} runs (full screen and before issue 10 alternating):`)
  say(`  full screen        p50 ${microseconds(screenLatency.p50)}  p99 ${microseconds(screenLatency.p99)}  max ${microseconds(screenLatency.max)}  (aim: p99 ≤ 1 ms)`)
  say(`    CPU time         p50 ${microseconds(screenLatency.cpuP50)}  p99 ${microseconds(screenLatency.cpuP99)}  (process CPU per query; excludes time not scheduled)`)
  say(`  baseline before issue 10 p50 ${microseconds(beforeLatency.p50)}  p99 ${microseconds(beforeLatency.p99)}  CPU p50 ${microseconds(beforeLatency.cpuP50)}  p99 ${microseconds(beforeLatency.cpuP99)}  (same answers; p50 ${(beforeLatency.p50 / screenLatency.p50).toFixed(1)}× the full screen's)`)
  say(`  baseline normalise p50 ${microseconds(normaliseLatency.p50)}  p99 ${microseconds(normaliseLatency.p99)}`)
  say(`  baseline exact     p50 ${microseconds(exactLatency.p50)}  p99 ${microseconds(exactLatency.p99)}`)

  // Rescreening throughput: every player against SDN + UN, as on a list update
  const listedNames = set.filter((testCase) => testCase.expected !== null).map((testCase) => testCase.fullName)
  const players = generatePlayers(Number(args.players), seed, listedNames)
  let alerts = 0
  for (const player of players) if (both.screen({ ...player, types: ['individual'] }).matches.length > 0) alerts += 1
  const bothBefore = buildReferenceScreener([sdn, un], { threshold })
  const [screenRate, beforeRate] = alternating<Player, number>(
    (run) => throughput(players, run, 1),
    (player: Player) => both.screen({ ...player, types: ['individual'] }),
    (player: Player) => bothBefore.screen({ ...player, types: ['individual'] }),
    repetitions,
    median,
  )
  const exactRate = throughput(players, (player) => both.exactLookup(player.fullName), repetitions)
  say('')
  say(`rescreening ${players.length} players against SDN + UN (1% listed names), median of ${repetitions} runs:`)
  say(`  full screen     ${(screenRate / 1000).toFixed(1)}k players/s  (${alerts} players alerted)`)
  say(`  baseline before issue 10  ${(beforeRate / 1000).toFixed(1)}k players/s  (full screen ${(screenRate / beforeRate).toFixed(1)}× that)`)
  say(`  baseline exact  ${(exactRate / 1000).toFixed(1)}k players/s`)
}

await main()
