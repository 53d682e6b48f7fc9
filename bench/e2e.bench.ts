/**
 * End-to-end throughput (issue 10): simulated events pre-produced to the local broker, then read
 * from the start twice on the same topics:
 *   (a) baseline: a bare kafkajs consume loop that only decodes every record with the AvroCodec,
 *       over every input topic, in this process;
 *   (b) the engine process (pipelines/main.ts) with everything on (detectors, model, screening,
 *       links emission) and a fresh group.
 * Engine throughput comes from its metrics endpoint (`pitboss_events_processed_total`, polled
 * every 100 ms): events / (time the counter reached the total - time the engine logged its
 * partitions assigned: `RoundStart`). Not from the counter's first move: it moves when outputs
 * are acknowledged, which can come seconds into a round. The bare loop is timed first record to
 * last. Start-up (lists, models) and the group join are left out of both.
 * Plus a broker-less figure: bench/replay.ts `replayEvents` on the same events (events/s and
 * events per CPU second).
 *
 * The mock broker keeps ~5 MiB per partition and silently drops the oldest (INFRA-NOTES.md), so
 * the events go in rounds of at most --round-events (default 200k, ~3.5 MiB on the busiest
 * partition) on topics of their own; each round is one repetition and the figures are medians.
 *
 *   npx tsx bench/e2e.bench.ts [--events 1000000] [--round-events 200000] [--seed 7] [--keep-substrate]
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sleep } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import { silentLogger } from '../core/logger.js'
import { INPUT_PARTITIONS, INPUT_TOPIC_KEYS, topicName, type TopicKey } from '../core/topics.js'
import { stopSubstrate } from '../infra/substrate.js'
import { loadScreenFunction } from '../screening/screen-function.js'
import { loadEngineModels, replayEvents } from './replay.js'
import { EngineChild, RoundStart, benchTopics, simulatedEvents, encodeEvents, machineInfo, median, printFigures, produceMessages, say, scrapeCounter, startBenchSubstrate, writeBenchResult, type BenchTopics } from './lib/harness.js'
import type { SimulatedEvent } from './simulator/world.js'

const POLL_MS = 100

const { values: args } = parseArgs({ options: {
  events: { type: 'string', default: '1000000' }, 'round-events': { type: 'string', default: '200000' },
  seed: { type: 'string', default: '7' }, 'keep-substrate': { type: 'boolean', default: false },
} })

/** (a) The bare loop: decode every input record, nothing else. Returns events/s (first record to last) and the CPU seconds this process spent meanwhile. */
async function bareLoop(run: BenchTopics, total: number): Promise<{ eventsPerSecond: number; cpuSeconds: number }> {
  const consumer = createKafka(run.config.kafka, silentLogger).consumer({ groupId: `${run.id}-bare`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 })
  const keyOf = new Map<string, TopicKey>(INPUT_TOPIC_KEYS.map((key) => [topicName(run.config.kafka, key), key]))
  let seen = 0
  let firstMs = 0
  let lastMs = 0
  let failures = 0
  let cpuAtFirst = null as NodeJS.CpuUsage | null
  let cpuAtLast = null as NodeJS.CpuUsage | null
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [...keyOf.keys()], fromBeginning: true })
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const key = keyOf.get(batch.topic) as TopicKey
        if (firstMs === 0) {
          firstMs = performance.now()
          cpuAtFirst = process.cpuUsage()
        }
        for (const message of batch.messages) {
          if (!(await run.codec.decode(key, message.value)).ok) failures += 1
        }
        seen += batch.messages.length
        lastMs = performance.now()
        cpuAtLast = process.cpuUsage()
      },
    })
    const deadlineMs = Date.now() + 30 * 60_000
    while (seen < total) {
      if (Date.now() > deadlineMs) throw new Error(`the bare loop read ${seen} of ${total} records in 30 minutes`)
      await sleep(20)
    }
  } finally {
    await consumer.disconnect()
  }
  if (failures > 0) throw new Error(`${failures} records did not decode in the bare loop`)
  const cpu = cpuAtFirst !== null && cpuAtLast !== null ? (cpuAtLast.user - cpuAtFirst.user + cpuAtLast.system - cpuAtFirst.system) / 1e6 : 0
  return { eventsPerSecond: total / ((lastMs - firstMs) / 1000), cpuSeconds: cpu }
}

/** No progress of the engine's event counter for this long, once it has started, fails the run. */
const STALL_MS = 60_000

interface EngineFigures {
  readonly eventsPerSecond: number
  readonly cpuSeconds: number
  readonly peakRssBytes: number
  readonly decisions: number
  /** Seconds from the partitions assigned to the counter's first move (the first outputs acknowledged), and the engine's CPU seconds meanwhile. */
  readonly firstAckSeconds: number
  readonly firstAckCpuSeconds: number
}

/** (b) The engine from the start of the same topics with a fresh group, measured on its metrics endpoint. */
async function engineRun(run: BenchTopics, total: number): Promise<EngineFigures> {
  const engine = new EngineChild(run, 'engine').start()
  try {
    const port = await engine.metricsPort(120_000)
    const start = new RoundStart([engine])
    let firstMoveMs: number | null = null
    let firstMoveCpuSeconds = 0
    let peakRssBytes = 0
    const deadlineMs = Date.now() + 30 * 60_000
    let lastProcessed = -1
    let lastMoveMs = performance.now()
    for (;;) {
      const processed = await scrapeCounter(port, 'pitboss_events_processed_total')
      const nowMs = performance.now()
      if (processed !== lastProcessed) {
        lastProcessed = processed
        lastMoveMs = nowMs
      }
      peakRssBytes = Math.max(peakRssBytes, engine.rssBytes())
      start.sample()
      if (processed > 0 && firstMoveMs === null) {
        firstMoveMs = nowMs
        firstMoveCpuSeconds = engine.cpuSeconds()
      }
      if (processed >= total) {
        // CPU from the partitions assigned on: start-up (loading lists, models, the group join) left out, like the rate
        const { startMs, startCpuSeconds } = start.resolve()
        const cpuSeconds = engine.cpuSeconds() - startCpuSeconds
        const decisions = await scrapeCounter(port, 'pitboss_decisions_total')
        return { eventsPerSecond: processed / ((nowMs - startMs) / 1000), cpuSeconds, peakRssBytes, decisions, firstAckSeconds: ((firstMoveMs ?? nowMs) - startMs) / 1000, firstAckCpuSeconds: firstMoveCpuSeconds - startCpuSeconds }
      }
      if (!engine.running) throw new Error(`the engine exited after ${processed} of ${total} events; see ${engine.logFile}`)
      if (Date.now() > deadlineMs) throw new Error(`the engine processed ${processed} of ${total} events in 30 minutes; see ${engine.logFile}`)
      // A stall is a finding, not a slow run: stop rather than wait out the half hour.
      if (firstMoveMs !== null && nowMs - lastMoveMs > STALL_MS) {
        const lagging = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).split('\n').filter((line) => line.startsWith('pitboss_consumer_lag{') && !line.endsWith(' 0'))
        throw new Error(`the engine stalled at ${processed} of ${total} events (no progress for ${STALL_MS / 1000} s); lag where it stopped:\n${lagging.join('\n')}\nsee ${engine.logFile}`)
      }
      await sleep(POLL_MS)
    }
  } finally {
    const code = await engine.stop('SIGTERM')
    if (code !== 0) say(`warning: the engine exited with ${code} on SIGTERM; see ${engine.logFile}`)
  }
}

async function main(): Promise<void> {
  const startedMs = Date.now()
  const base = loadConfig()
  const machine = machineInfo()
  const totalEvents = Number(args.events)
  const perRound = Math.min(totalEvents, Number(args['round-events']))
  const rounds = Math.max(1, Math.ceil(totalEvents / perRound))
  const benchDir = path.join(base.homeDir, 'bench', 'runs', `e2e-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`)
  say(`e2e: ${rounds} round(s) of ${perRound} simulated events (${rounds * perRound} in all); runs in ${benchDir}`)
  const substrate = await startBenchSubstrate(base.homeDir)
  const repetitions: Array<Record<string, number>> = []
  let firstRoundEvents: SimulatedEvent[] = []
  try {
    for (let round = 0; round < rounds; round += 1) {
      const run = await benchTopics(substrate, benchDir, `e2e-${round}`)
      const events = simulatedEvents(Number(args.seed) + round, perRound, base.referenceDataDir)
      if (round === 0) firstRoundEvents = events
      const produceStartMs = performance.now()
      await produceMessages(run.config, encodeEvents(run.codec, events))
      const produceRate = events.length / ((performance.now() - produceStartMs) / 1000)
      const bare = await bareLoop(run, events.length)
      const engine = await engineRun(run, events.length)
      repetitions.push({ events: events.length, produceEventsPerSecond: produceRate, bareEventsPerSecond: bare.eventsPerSecond, engineEventsPerSecond: engine.eventsPerSecond, ratio: engine.eventsPerSecond / bare.eventsPerSecond, bareCpuSeconds: bare.cpuSeconds, engineCpuSeconds: engine.cpuSeconds, enginePeakRssMiB: engine.peakRssBytes / 2 ** 20, decisions: engine.decisions, engineFirstAckSeconds: engine.firstAckSeconds, engineFirstAckCpuSeconds: engine.firstAckCpuSeconds })
      say(`round ${round + 1}/${rounds}: produce ${Math.round(produceRate)} ev/s, bare decode loop ${Math.round(bare.eventsPerSecond)} ev/s (CPU ${bare.cpuSeconds.toFixed(1)} s), engine ${Math.round(engine.eventsPerSecond)} ev/s (ratio ${(engine.eventsPerSecond / bare.eventsPerSecond).toFixed(2)}), ${engine.decisions} decisions, engine CPU ${engine.cpuSeconds.toFixed(1)} s, first outputs acknowledged ${engine.firstAckSeconds.toFixed(1)} s in (${engine.firstAckCpuSeconds.toFixed(1)} CPU s)`)
    }

    // Broker-less replay of the first round's events, with the engine's screening and models.
    const screening = await loadScreenFunction(base.screening.listsDir)
    const models = await loadEngineModels(base)
    const cpuBefore = process.cpuUsage()
    const replayStartMs = performance.now()
    const replay = await replayEvents(firstRoundEvents, { partitions: INPUT_PARTITIONS, screen: screening?.screen ?? null, scorer: models })
    const replaySeconds = (performance.now() - replayStartMs) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    await models?.close()
    const replayCpuSeconds = (cpu.user + cpu.system) / 1e6
    say(`replay: ${firstRoundEvents.length} events in ${replaySeconds.toFixed(1)} s wall, ${replayCpuSeconds.toFixed(1)} CPU s (${replay.decisions.length} decisions)`)

    const pick = (name: string): number => median(repetitions.map((repetition) => repetition[name] as number))
    const engineRate = pick('engineEventsPerSecond')
    const bareRate = pick('bareEventsPerSecond')
    const ratio = pick('ratio')
    const result = {
      name: 'e2e', title: 'End-to-end throughput: the engine against a bare decode loop', dateIso: new Date().toISOString(), durationSeconds: (Date.now() - startedMs) / 1000, machine,
      parameters: { events: rounds * perRound, rounds, eventsPerRound: perRound, seed: Number(args.seed), engineMeasuredBy: 'metrics endpoint pitboss_events_processed_total' },
      figures: [
        { label: 'engine events/s (median of rounds)', value: engineRate, unit: 'events/s', baseline: { label: 'bare kafkajs decode loop', value: bareRate }, goal: '>= 25000', met: engineRate >= 25_000 },
        { label: 'engine / bare loop (median of rounds)', value: ratio, unit: 'ratio', goal: '>= 0.5', met: ratio >= 0.5 },
        { label: 'engine CPU seconds per 100k events (from its partitions assigned)', value: (pick('engineCpuSeconds') / perRound) * 100_000, unit: 's', baseline: { label: 'bare loop CPU seconds per 100k', value: (pick('bareCpuSeconds') / perRound) * 100_000 } },
        { label: 'engine peak RSS', value: pick('enginePeakRssMiB'), unit: 'MiB' },
        { label: 'producer events/s (pre-produce)', value: pick('produceEventsPerSecond'), unit: 'events/s' },
        { label: 'replay without broker, events/s (1 process)', value: firstRoundEvents.length / replaySeconds, unit: 'events/s', baseline: { label: 'engine through the broker', value: engineRate } },
        { label: 'replay events per CPU second (per core)', value: firstRoundEvents.length / replayCpuSeconds, unit: 'events/CPU s' },
      ],
      repetitions,
      notes: [
        'Each round is its own set of topics (the mock broker keeps ~5 MiB per partition), read twice from the start: by the bare loop, then by the engine with a fresh group.',
        'Rates run from the first record (bare loop) or the engine\'s partitions assigned (its counter moves only on acknowledged outputs) to the last; start-up and group joins are left out.',
        `Machine load average at start ${machine.loadAverage1m} on ${machine.cpus} CPUs: the machine is shared, figures move with its load.`,
      ],
    }
    printFigures(result)
    say(`wrote ${writeBenchResult(base.homeDir, result)}`)
  } finally {
    if (!args['keep-substrate']) await stopSubstrate(path.join(base.homeDir, 'bench-substrate'))
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`e2e bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
