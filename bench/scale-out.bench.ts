/**
 * Scale-out (issue 10): two engine processes in one group, the eight partition tasks split
 * between them before the events are produced; one is SIGKILLed once --kill-at of the events are
 * processed. Reports the throughput of the pair before the kill and over the whole run, the
 * rebalance time (kill -> the survivor logs all eight partitions assigned) and the time to its
 * resumed progress (kill -> the survivor reports lag on a partition the killed one held, i.e.
 * it is fetching there), and checks that every withdrawal is decided exactly once (one decision
 * id per withdrawal, re-emissions byte-identical, none missing).
 * Baseline in the same run: one engine alone on a copy of the same events, produced once it holds
 * every partition. Rates run from the first event produced, so neither holds a group join.
 * Repeated (--repetitions, default 3; each repetition the lone engine, then the pair with its
 * kill, on fresh topics): rates and times are medians over the repetitions, and the exactly-once
 * counts are summed over all of them.
 *
 *   npx tsx bench/scale-out.bench.ts [--events 150000] [--kill-at 0.4] [--repetitions 3] [--seed 13] [--keep-substrate]
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sleep } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { INPUT_PARTITIONS } from '../core/topics.js'
import { stopSubstrate, type SubstrateInfo } from '../infra/substrate.js'
import type { SimulatedEvent } from './simulator/world.js'
import type { Decision } from '../schemas/generated/types.js'
import { EngineChild, OutputReader, benchTopics, encodeEvents, machineInfo, median, positiveIntegerOption, printFigures, produceMessages, say, scrapeInputsProcessed, scrapeLabels, simulatedEvents, startBenchSubstrate, waitUntilQuiet, writeBenchResult, type BenchTopics, type OutgoingMessage } from './lib/harness.js'

const { values: args } = parseArgs({ options: {
  events: { type: 'string', default: '150000' }, 'kill-at': { type: 'string', default: '0.4' }, repetitions: { type: 'string', default: '3' },
  seed: { type: 'string', default: '13' }, 'keep-substrate': { type: 'boolean', default: false },
} })

const POLL_MS = 100
const TIMEOUT_MS = 20 * 60_000

function engineFor(run: BenchTopics, label: string): EngineChild {
  return new EngineChild(run, label, 'pipelines/main.ts', { PITBOSS_INSTANCE_ID: label, PITBOSS_STATE_DIR: path.join(run.runDir, `state-${label}`) })
}

/**
 * Waits until the engines' latest assignments split every input partition between them: each
 * holds some, none is held twice. Returns when the last of those assignments was logged (epoch ms).
 * The rates start after it: a group still forming moves partitions between its members, and
 * those seconds are the join's, not the pair's throughput.
 */
async function splitSettled(engines: readonly EngineChild[], timeoutMs: number): Promise<number> {
  const deadlineMs = Date.now() + timeoutMs
  for (;;) {
    const latest = engines.map((engine) => engine.logLines().filter((line) => line.msg === 'partitions assigned' && Array.isArray(line.partitions)).at(-1))
    const held = latest.map((line) => (line?.partitions as number[] | undefined) ?? [])
    const all = held.flat()
    if (held.every((partitions) => partitions.length > 0) && all.length === INPUT_PARTITIONS && new Set(all).size === INPUT_PARTITIONS) {
      return Math.max(...latest.map((line) => line?.time ?? 0))
    }
    if (engines.some((engine) => !engine.running)) throw new Error(`an engine exited before the partitions were split; see ${engines.map((engine) => engine.logFile).join(', ')}`)
    if (Date.now() > deadlineMs) throw new Error(`the partitions were not split between the engines within ${timeoutMs} ms; see ${engines.map((engine) => engine.logFile).join(', ')}`)
    await sleep(POLL_MS)
  }
}

/** One engine alone, holding every partition before the events are produced: events/s from the first produced to the total. */
async function singleEngine(run: BenchTopics, messages: readonly OutgoingMessage[], total: number): Promise<number> {
  const engine = engineFor(run, 'alone').start()
  try {
    const port = await engine.metricsPort(120_000)
    await splitSettled([engine], TIMEOUT_MS)
    const startMs = performance.now()
    await produceMessages(run.config, messages)
    const deadlineMs = Date.now() + TIMEOUT_MS
    for (;;) {
      const processed = await scrapeInputsProcessed(port)
      if (processed >= total) return processed / ((performance.now() - startMs) / 1000)
      if (!engine.running || Date.now() > deadlineMs) throw new Error(`the lone engine stopped at ${processed} of ${total}; see ${engine.logFile}`)
      await sleep(POLL_MS)
    }
  } finally {
    await engine.stop('SIGTERM')
  }
}

/** What one repetition measured. */
interface Repetition {
  readonly aloneRate: number
  readonly pairRate: number
  readonly overallRate: number
  readonly rebalanceMs: number
  readonly resumedMs: number
  /** Both engines started -> the partitions split between them (before the events; not in the rates). */
  readonly joinMs: number
  readonly missing: number
  readonly conflicting: number
  readonly reEmitted: number
  readonly decisionIds: number
  readonly recordsRead: number
  readonly conflictDetails: readonly string[]
  readonly sessionTimeoutMs: number
}

/** One engine alone, then the pair with its kill, each on topics of its own with the same events. */
async function repetition(substrate: SubstrateInfo, benchDir: string, index: number, events: readonly SimulatedEvent[], requests: ReadonlySet<string>, killAt: number): Promise<Repetition> {
  const total = events.length
  const aloneRun = await benchTopics(substrate, benchDir, `scale-alone-${index}`)
  const aloneRate = await singleEngine(aloneRun, encodeEvents(aloneRun.codec, events), total)
  say(`repetition ${index}: one engine alone: ${Math.round(aloneRate)} events/s`)

  const run = await benchTopics(substrate, benchDir, `scale-pair-${index}`)
  const messages = encodeEvents(run.codec, events)
  const decisions = await new OutputReader<Decision>(run, 'decisions', 100).start()
  const startedEpochMs = Date.now()
  const survivor = engineFor(run, 'engine-a').start()
  const victim = engineFor(run, 'engine-b').start()
  try {
    const [survivorPort, victimPort] = await Promise.all([survivor.metricsPort(120_000), victim.metricsPort(120_000)])
    // The events go out once the group has split the partitions, so the pair's rate holds no join.
    const joinMs = (await splitSettled([survivor, victim], TIMEOUT_MS)) - startedEpochMs
    const startMs = performance.now()
    // Polled while the events are still going out: producing 150k takes seconds beside two busy
    // engines, and a kill after it came at 0.5-0.9 of the events instead of --kill-at.
    const producing = produceMessages(run.config, messages)
    producing.catch(() => undefined) // a failed produce is thrown by the await after the kill
    let processed = 0
    const deadlineMs = Date.now() + TIMEOUT_MS
    while (processed < killAt * total) {
      processed = (await scrapeInputsProcessed(survivorPort)) + (await scrapeInputsProcessed(victimPort))
      if (Date.now() > deadlineMs) throw new Error(`the pair processed ${processed} of ${total}`)
      await sleep(POLL_MS)
    }
    const pairRate = processed / ((performance.now() - startMs) / 1000)
    const survivorPartitions = new Set(await scrapeLabels(survivorPort, 'pitboss_consumer_lag', 'partition'))
    const killEpochMs = Date.now()
    const killMs = performance.now()
    await victim.stop('SIGKILL')
    await producing
    say(`repetition ${index}: the pair split the partitions ${Math.round(joinMs)} ms after starting; killed engine-b after ${processed} events (${Math.round(pairRate)} events/s for the pair); engine-a held partitions ${[...survivorPartitions].sort().join(',')}`)

    const assigned = await survivor.waitForLog((line) => line.msg === 'partitions assigned' && Array.isArray(line.partitions) && line.partitions.length === INPUT_PARTITIONS, TIMEOUT_MS, killEpochMs)
    const rebalanceMs = assigned.time - killEpochMs
    let resumedMs = Number.NaN
    while (Number.isNaN(resumedMs)) {
      const partitions = await scrapeLabels(survivorPort, 'pitboss_consumer_lag', 'partition')
      if (partitions.some((partition) => !survivorPartitions.has(partition))) resumedMs = performance.now() - killMs
      else if (performance.now() - killMs > TIMEOUT_MS) throw new Error('the survivor never fetched from the killed engine\'s partitions')
      else await sleep(50)
    }
    await decisions.waitFor(() => new Set(decisions.values.map((decision) => decision.withdrawalId)).size >= requests.size, TIMEOUT_MS, 'every withdrawal decided')
    const doneMs = performance.now()
    await waitUntilQuiet(() => decisions.received.length, 3_000, 30_000)
    const overallRate = total / ((doneMs - startMs) / 1000)

    const byDecision = new Map<string, Set<string>>()
    for (const entry of decisions.received) {
      const copies = byDecision.get(entry.value.decisionId) ?? new Set<string>()
      copies.add(entry.bytes?.toString('base64') ?? '')
      byDecision.set(entry.value.decisionId, copies)
    }
    const firstRevisions = decisions.values.filter((decision) => decision.revision === 1)
    const perWithdrawal = new Map<string, Set<string>>()
    for (const decision of firstRevisions) perWithdrawal.set(decision.withdrawalId, (perWithdrawal.get(decision.withdrawalId) ?? new Set()).add(decision.decisionId))
    const missing = [...requests].filter((id) => !perWithdrawal.has(id)).length
    const conflicting = [...byDecision.values()].filter((copies) => copies.size > 1).length + [...perWithdrawal.values()].filter((ids) => ids.size > 1).length
    const reEmitted = decisions.received.length - byDecision.size
    // What differs between the two forms of a conflicting decision (executions by detector, outcome)
    const forms = new Map<string, Decision[]>()
    for (const entry of decisions.received) forms.set(entry.value.decisionId, [...(forms.get(entry.value.decisionId) ?? []), entry.value])
    const conflictDetails: string[] = []
    for (const [decisionId, copies] of byDecision) {
      if (copies.size < 2) continue
      const [first, ...rest] = forms.get(decisionId) as [Decision, ...Decision[]]
      const other = rest.find((decision) => JSON.stringify(decision) !== JSON.stringify(first)) as Decision
      const detectors = first.executions.filter((execution, position) => JSON.stringify(execution) !== JSON.stringify(other.executions[position])).map((execution) => execution.detectorId)
      conflictDetails.push(`repetition ${index}, ${decisionId}: ${first.outcome} -> ${other.outcome}, executions differing: ${detectors.join(', ') || 'none'}`)
    }
    if (conflictDetails.length > 0) say(`conflicting decisions:\n  ${conflictDetails.join('\n  ')}`)
    say(`repetition ${index}: rebalance ${Math.round(rebalanceMs)} ms, whole run ${Math.round(overallRate)} events/s, ${missing} missing, ${conflicting} conflicting, ${reEmitted} re-emitted`)
    return { aloneRate, pairRate, overallRate, rebalanceMs, resumedMs, joinMs, missing, conflicting, reEmitted, decisionIds: byDecision.size, recordsRead: decisions.received.length, conflictDetails, sessionTimeoutMs: run.config.kafka.sessionTimeoutMs }
  } finally {
    await decisions.stop()
    await victim.stop('SIGKILL')
    await survivor.stop('SIGTERM')
  }
}

async function main(): Promise<void> {
  const startedMs = Date.now()
  const base = loadConfig()
  const machine = machineInfo()
  const total = Number(args.events)
  const killAt = Number(args['kill-at'])
  const repetitions = positiveIntegerOption('repetitions', args.repetitions)
  const benchDir = path.join(base.homeDir, 'bench', 'runs', `scale-out-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`)
  const substrate = await startBenchSubstrate(base.homeDir)
  const events = simulatedEvents(Number(args.seed), total, base.referenceDataDir)
  const requests = new Set(events.flatMap((event) => (event.topic === 'withdrawals' && event.value.type === 'REQUESTED' ? [event.value.withdrawalId] : [])))
  try {
    const rows: Repetition[] = []
    for (let index = 1; index <= repetitions; index += 1) rows.push(await repetition(substrate, benchDir, index, events, requests, killAt))
    const pick = (name: 'aloneRate' | 'pairRate' | 'overallRate' | 'rebalanceMs' | 'resumedMs'): number => median(rows.map((row) => row[name]))
    const sum = (name: 'missing' | 'conflicting' | 'reEmitted'): number => rows.reduce((total, row) => total + row[name], 0)
    const missing = sum('missing')
    const conflicting = sum('conflicting')
    const exactlyOnce = missing === 0 && conflicting === 0
    const conflictDetails = rows.flatMap((row) => row.conflictDetails)
    const spread = (name: 'aloneRate' | 'pairRate' | 'rebalanceMs' | 'joinMs'): string => rows.map((row) => Math.round(row[name]).toLocaleString('en-US')).join(', ')
    const result = {
      name: 'scale-out', title: 'Scale-out: two engines in one group, one SIGKILLed mid-run', dateIso: new Date().toISOString(), durationSeconds: (Date.now() - startedMs) / 1000, machine,
      parameters: { events: events.length, withdrawals: requests.size, killAtFraction: killAt, repetitions, seed: Number(args.seed), sessionTimeoutMs: rows[0]?.sessionTimeoutMs ?? Number.NaN },
      figures: [
        { label: `two engines before the kill (median of ${repetitions})`, value: pick('pairRate'), unit: 'events/s', baseline: { label: 'one engine alone', value: pick('aloneRate') } },
        { label: 'whole run with the kill (first event produced to last decision)', value: pick('overallRate'), unit: 'events/s', baseline: { label: 'one engine alone', value: pick('aloneRate') } },
        { label: 'rebalance: kill -> survivor holds all partitions', value: pick('rebalanceMs'), unit: 'ms' },
        { label: 'kill -> survivor fetching the lost partitions', value: pick('resumedMs'), unit: 'ms' },
        { label: `withdrawals missing a decision (all ${repetitions} repetitions)`, value: missing, unit: 'count', goal: '0', met: missing === 0 },
        { label: `conflicting decisions (all ${repetitions} repetitions)`, value: conflicting, unit: 'count', goal: '0', met: conflicting === 0 },
        { label: `byte-identical re-emissions after the kills (all ${repetitions} repetitions)`, value: sum('reEmitted'), unit: 'count' },
      ],
      repetitions: rows.map(({ conflictDetails: _details, sessionTimeoutMs: _timeout, ...row }) => row),
      notes: [
        `Every withdrawal decided exactly once in every repetition: ${exactlyOnce ? 'yes' : 'NO'} (${requests.size} withdrawals a repetition; decision ids ${rows.map((row) => row.decisionIds).join(', ')}; records read ${rows.map((row) => row.recordsRead).join(', ')}).`,
        ...(conflictDetails.length > 0 ? [`Conflicting: ${conflictDetails.join('; ')}.`] : []),
        `Each repetition: the pair ${spread('pairRate')} events/s, alone ${spread('aloneRate')} events/s, rebalance ${spread('rebalanceMs')} ms.`,
        `Rates run from the first event produced: the events are produced once the engine holds every partition, or the pair has split them (which took ${spread('joinMs')} ms from their start), so no join or start-up rebalance is in them.`,
        `The rebalance waits for the broker to expire the killed member (session timeout ${rows[0]?.sessionTimeoutMs ?? '?'} ms); re-emissions are the killed engine's uncheckpointed batches replayed by the survivor.`,
        `Machine load average at start ${machine.loadAverage1m} on ${machine.cpus} CPUs.`,
      ],
    }
    printFigures(result)
    say(`wrote ${writeBenchResult(base.homeDir, result)}`)
    if (!exactlyOnce) process.exitCode = 1
  } finally {
    if (!args['keep-substrate']) await stopSubstrate(path.join(base.homeDir, 'bench-substrate'))
  }
}

main().then(() => process.exit(process.exitCode ?? 0), (error: unknown) => {
  process.stderr.write(`scale-out bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
