/**
 * End-to-end throughput (issue 10): --events simulated events (default 1M) through one engine,
 * pre-produced to the local broker in rounds, each round read twice on the same topics:
 *   (a) baseline: a bare kafkajs consume loop in this process that only decodes every record with
 *       the AvroCodec, over every input topic;
 *   (b) the engine process (pipelines/main.ts) with everything on (detectors, model, screening,
 *       links emission).
 * The mock broker keeps ~5 MiB per partition and silently drops the oldest (INFRA-NOTES.md), so
 * the events cannot be produced at once: they go in rounds of --round-events (default 200k, ~3.5
 * MiB on the busiest partition) onto the same topics, each round once both readers are done with
 * the one before. Round k is the first events of a day of its own simulated world (seed + k, two
 * days after the last round's): the same mix in every round, a new population each time, event
 * time moving on from round to round.
 * While a round is produced and read by the bare loop (a consumer per round in one group, each
 * going on from the last one's committed offsets), the engine is frozen (SIGSTOP, with a session
 * timeout above the freeze); then it is let go (SIGCONT) and timed until its counter reaches the
 * round's end. Both
 * stay warm from round to round, as a running engine is: the first round is the engine's first
 * seconds (V8 compiling its code, many more functions than the bare loop's), reported on its own
 * beside the median of the rounds.
 *
 * Engine throughput comes from its metrics endpoint (`pitboss_events_processed_total` of the
 * casino topics, without the transfers the engine re-keys and reads back: scrapeInputsProcessed;
 * polled every 100 ms): the round's events / (time the counter reached the round's end - the round's
 * start). The first round starts when the engine logged its partitions assigned (`RoundStart`),
 * not at the counter's first move: it moves when outputs are acknowledged, which can come seconds
 * in. The later rounds start at the SIGCONT. The bare loop is timed from its first record of the
 * round to the last. Start-up (lists, models) and the group joins are left out of both.
 * Plus a broker-less figure: bench/replay.ts `replayEvents` on the first round's events (events/s
 * and events per CPU second).
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
import { DEFAULT_START_MS } from './simulator/simulate.js'
import { DAY_MS, type SimulatedEvent } from './simulator/world.js'
import { EngineChild, RoundStart, benchTopics, simulatedEvents, encodeEvents, machineInfo, median, printFigures, produceMessages, say, scrapeCounter, scrapeInputsProcessed, scrapeMetricsText, startBenchSubstrate, writeBenchResult, type BenchTopics } from './lib/harness.js'

const POLL_MS = 100

/** The engine's session timeout here: longer than a freeze (a round produced and read by the bare loop, ~10 s), so the frozen engine keeps its partitions. */
const SESSION_TIMEOUT_MS = 120_000

const { values: args } = parseArgs({ options: {
  events: { type: 'string', default: '1000000' }, 'round-events': { type: 'string', default: '200000' },
  seed: { type: 'string', default: '7' }, 'keep-substrate': { type: 'boolean', default: false },
} })

interface Rate {
  readonly eventsPerSecond: number
  readonly cpuSeconds: number
}

/**
 * (a) The bare loop: decode every input record, nothing else. Each round is one consumer in the
 * same group, from the group's committed offsets (the start of the topics in the first round) to
 * the round's end, then disconnected: one consumer kept paused from round to round had rounds
 * at a fifth of the others' rate on two to three times the CPU, now and then, for no cause found.
 * `round` returns events/s from the round's first record to its last, and the CPU seconds this
 * process spent meanwhile. A record read a second time fails the run.
 */
class BareLoop {
  private seen = 0
  private failures = 0
  private rereads = 0
  private readonly nextOffsets = new Map<string, number>()
  private firstMs = 0
  private lastMs = 0
  private cpuAtFirst: NodeJS.CpuUsage | null = null
  private cpuAtLast: NodeJS.CpuUsage | null = null
  private readonly keyOf: ReadonlyMap<string, TopicKey>

  constructor(private readonly run: BenchTopics) {
    this.keyOf = new Map<string, TopicKey>(INPUT_TOPIC_KEYS.map((key) => [topicName(run.config.kafka, key), key]))
  }

  private async onBatch(topic: string, partition: number, messages: ReadonlyArray<{ offset: string; value: Buffer | null }>): Promise<void> {
    const key = this.keyOf.get(topic) as TopicKey
    if (this.firstMs === 0) {
      this.firstMs = performance.now()
      this.cpuAtFirst = process.cpuUsage()
    }
    const position = `${topic}:${partition}`
    let next = this.nextOffsets.get(position) ?? 0
    for (const message of messages) {
      const offset = Number(message.offset)
      // A record read before (the group went back): not counted, and the run is refused below.
      if (offset < next) {
        this.rereads += 1
        continue
      }
      next = offset + 1
      if (!(await this.run.codec.decode(key, message.value)).ok) this.failures += 1
      this.seen += 1
    }
    this.nextOffsets.set(position, next)
    this.lastMs = performance.now()
    this.cpuAtLast = process.cpuUsage()
  }

  /** Reads on until `total` records in all (this round's end). */
  async round(roundEvents: number, total: number): Promise<Rate> {
    this.firstMs = 0
    this.cpuAtFirst = null
    const consumer = createKafka(this.run.config.kafka, silentLogger).consumer({ groupId: `${this.run.id}-bare`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 })
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: [...this.keyOf.keys()], fromBeginning: true })
      await consumer.run({ eachBatch: async ({ batch }) => this.onBatch(batch.topic, batch.partition, batch.messages) })
      const deadlineMs = Date.now() + 30 * 60_000
      while (this.seen < total) {
        if (Date.now() > deadlineMs) throw new Error(`the bare loop read ${this.seen} of ${total} records in 30 minutes`)
        if (this.rereads > 0) break
        await sleep(20)
      }
    } finally {
      // Commits what it read: the next round's consumer starts there.
      await consumer.disconnect()
    }
    if (this.failures > 0) throw new Error(`${this.failures} records did not decode in the bare loop`)
    if (this.rereads > 0) throw new Error(`the bare loop read ${this.rereads} records a second time (its group went back): the round's rate would count that work`)
    const first = this.cpuAtFirst as NodeJS.CpuUsage | null
    const last = this.cpuAtLast as NodeJS.CpuUsage | null
    const cpu = first !== null && last !== null ? (last.user - first.user + last.system - first.system) / 1e6 : 0
    return { eventsPerSecond: roundEvents / ((this.lastMs - this.firstMs) / 1000), cpuSeconds: cpu }
  }
}

/** No progress of the engine's event counter for this long, once it has started, fails the run. */
const STALL_MS = 60_000

interface EngineFigures extends Rate {
  readonly peakRssBytes: number
  readonly decisions: number
  /** Seconds from the round's start to the counter's first move in it (the round's first outputs acknowledged), and the engine's CPU seconds meanwhile. */
  readonly firstAckSeconds: number
  readonly firstAckCpuSeconds: number
}

/** Where an engine round starts: the partitions assigned (first round) or the SIGCONT (the others). */
interface RoundStartOf {
  sample(): void
  resolve(): { readonly startMs: number; readonly startCpuSeconds: number }
}

function startingNow(engine: EngineChild): RoundStartOf {
  const start = { startMs: performance.now(), startCpuSeconds: engine.cpuSeconds() }
  return { sample: () => undefined, resolve: () => start }
}

/** (b) One round of the engine: from `start` until its counter reaches `total` (every round so far), measured on its metrics endpoint. */
async function engineRound(engine: EngineChild, port: number, start: RoundStartOf, roundEvents: number, total: number): Promise<EngineFigures> {
  const decisionsBefore = await scrapeCounter(port, 'pitboss_decisions_total')
  const processedBefore = total - roundEvents
  let firstMoveMs: number | null = null
  let firstMoveCpuSeconds = 0
  let peakRssBytes = 0
  const deadlineMs = Date.now() + 30 * 60_000
  let lastProcessed = -1
  let lastMoveMs = performance.now()
  for (;;) {
    const processed = await scrapeInputsProcessed(port)
    const nowMs = performance.now()
    if (processed !== lastProcessed) {
      lastProcessed = processed
      lastMoveMs = nowMs
    }
    peakRssBytes = Math.max(peakRssBytes, engine.rssBytes())
    start.sample()
    if (processed > processedBefore && firstMoveMs === null) {
      firstMoveMs = nowMs
      firstMoveCpuSeconds = engine.cpuSeconds()
    }
    if (processed >= total) {
      const { startMs, startCpuSeconds } = start.resolve()
      const cpuSeconds = engine.cpuSeconds() - startCpuSeconds
      const decisions = (await scrapeCounter(port, 'pitboss_decisions_total')) - decisionsBefore
      return { eventsPerSecond: roundEvents / ((nowMs - startMs) / 1000), cpuSeconds, peakRssBytes, decisions, firstAckSeconds: ((firstMoveMs ?? nowMs) - startMs) / 1000, firstAckCpuSeconds: firstMoveCpuSeconds - startCpuSeconds }
    }
    if (!engine.running) throw new Error(`the engine exited after ${processed} of ${total} events; see ${engine.logFile}`)
    if (Date.now() > deadlineMs) throw new Error(`the engine processed ${processed} of ${total} events in 30 minutes; see ${engine.logFile}`)
    // A stall is a finding, not a slow run: stop rather than wait out the half hour.
    if (firstMoveMs !== null && nowMs - lastMoveMs > STALL_MS) {
      const lagging = (await scrapeMetricsText(port)).split('\n').filter((line) => line.startsWith('pitboss_consumer_lag{') && !line.endsWith(' 0'))
      throw new Error(`the engine stalled at ${processed} of ${total} events (no progress for ${STALL_MS / 1000} s); lag where it stopped:\n${lagging.join('\n')}\nsee ${engine.logFile}`)
    }
    await sleep(POLL_MS)
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
  say(`e2e: ${totalEvents} simulated events, ${rounds} round(s) of up to ${perRound} through one engine; runs in ${benchDir}`)
  // Round k is a day of its own world (seed + k): the same mix of events in every round, a new
  // population each time, event time moving on from round to round as one engine's stream does.
  // A simulated day starts ~2 h before its start (the evening before), so the worlds are two days
  // apart: a day apart, a round's first events were behind the last round's stream time, and the
  // detectors skipped ~2,000 of them as late.
  let lastEventMs = Number.NEGATIVE_INFINITY
  const worldFor = (round: number): SimulatedEvent[] => {
    const count = Math.min(perRound, totalEvents - round * perRound)
    // A world of players for `count` events falls a little short of it (198.5k for 200k): 3% more players, then the cut.
    const events = simulatedEvents(Number(args.seed) + round, Math.ceil(count * 1.03), base.referenceDataDir, DEFAULT_START_MS + round * 2 * DAY_MS).slice(0, count)
    if (events.length < count) throw new Error(`round ${round + 1}'s simulated world has ${events.length} events, fewer than the ${count} asked`)
    let firstMs = Number.POSITIVE_INFINITY
    let endMs = Number.NEGATIVE_INFINITY
    for (const event of events) {
      firstMs = Math.min(firstMs, event.value.eventTimeMs)
      endMs = Math.max(endMs, event.value.eventTimeMs)
    }
    if (firstMs <= lastEventMs) throw new Error(`round ${round + 1}'s first event (${new Date(firstMs).toISOString()}) is not after the last round's last (${new Date(lastEventMs).toISOString()})`)
    lastEventMs = endMs
    return events
  }
  const firstRoundEvents = worldFor(0)
  const substrate = await startBenchSubstrate(base.homeDir)
  const run = await benchTopics(substrate, benchDir, 'e2e', { PITBOSS_KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS) })
  const repetitions: Array<Record<string, number>> = []
  const engine = new EngineChild(run, 'engine')
  const bare = new BareLoop(run)
  try {
    let port = 0
    let produced = 0
    for (let round = 0; round < rounds; round += 1) {
      // Made and encoded round by round, outside every measurement: the bare loop runs in this
      // process, and with every round's events held here its heap passed 800 MiB.
      const messages = encodeEvents(run.codec, round === 0 ? firstRoundEvents : worldFor(round))
      const produceStartMs = performance.now()
      await produceMessages(run.config, messages)
      const produceRate = messages.length / ((performance.now() - produceStartMs) / 1000)
      produced += messages.length
      const bareRound = await bare.round(messages.length, produced)
      let start: RoundStartOf
      if (round === 0) {
        engine.start()
        port = await engine.metricsPort(120_000)
        start = new RoundStart([engine])
      } else {
        engine.thaw()
        start = startingNow(engine)
      }
      const engineFigures = await engineRound(engine, port, start, messages.length, produced)
      engine.freeze()
      const ratio = engineFigures.eventsPerSecond / bareRound.eventsPerSecond
      repetitions.push({
        round: round + 1, events: messages.length, produceEventsPerSecond: produceRate, bareEventsPerSecond: bareRound.eventsPerSecond, engineEventsPerSecond: engineFigures.eventsPerSecond, ratio,
        bareCpuSeconds: bareRound.cpuSeconds, engineCpuSeconds: engineFigures.cpuSeconds, enginePeakRssMiB: engineFigures.peakRssBytes / 2 ** 20, decisions: engineFigures.decisions,
        engineFirstAckSeconds: engineFigures.firstAckSeconds, engineFirstAckCpuSeconds: engineFigures.firstAckCpuSeconds,
      })
      say(`round ${round + 1}/${rounds}: produce ${Math.round(produceRate)} ev/s, bare decode loop ${Math.round(bareRound.eventsPerSecond)} ev/s (CPU ${bareRound.cpuSeconds.toFixed(1)} s), engine ${Math.round(engineFigures.eventsPerSecond)} ev/s (ratio ${ratio.toFixed(2)}), ${engineFigures.decisions} decisions, engine CPU ${engineFigures.cpuSeconds.toFixed(1)} s, first outputs acknowledged ${engineFigures.firstAckSeconds.toFixed(1)} s in (${engineFigures.firstAckCpuSeconds.toFixed(1)} CPU s)`)
    }
  } finally {
    const code = await engine.stop('SIGTERM')
    if (code !== 0) say(`warning: the engine exited with ${code} on SIGTERM; see ${engine.logFile}`)
  }

  try {
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
    const first = repetitions[0] as Record<string, number>
    const engineRate = pick('engineEventsPerSecond')
    const bareRate = pick('bareEventsPerSecond')
    const ratio = pick('ratio')
    const cpuPer100k = (repetition: Record<string, number>, name: string): number => ((repetition[name] as number) / (repetition.events as number)) * 100_000
    const result = {
      name: 'e2e', title: 'End-to-end throughput: the engine against a bare decode loop', dateIso: new Date().toISOString(), durationSeconds: (Date.now() - startedMs) / 1000, machine,
      parameters: { events: totalEvents, rounds, eventsPerRound: perRound, seed: Number(args.seed), engineMeasuredBy: 'metrics endpoint pitboss_events_processed_total of the casino topics' },
      figures: [
        { label: 'engine events/s (median of rounds)', value: engineRate, unit: 'events/s', baseline: { label: 'bare kafkajs decode loop', value: bareRate }, goal: '>= 25000', met: engineRate >= 25_000 },
        { label: 'engine / bare loop (median of rounds)', value: ratio, unit: 'ratio', goal: '>= 0.5', met: ratio >= 0.5 },
        { label: 'engine events/s, first round (engine just started)', value: first.engineEventsPerSecond as number, unit: 'events/s', baseline: { label: 'bare loop, first round', value: first.bareEventsPerSecond as number } },
        { label: 'engine / bare loop, first round', value: first.ratio as number, unit: 'ratio' },
        { label: 'engine CPU seconds per 100k events (median of rounds)', value: median(repetitions.map((repetition) => cpuPer100k(repetition, 'engineCpuSeconds'))), unit: 's', baseline: { label: 'bare loop CPU seconds per 100k', value: median(repetitions.map((repetition) => cpuPer100k(repetition, 'bareCpuSeconds'))) } },
        { label: 'engine CPU seconds per 100k events, first round', value: cpuPer100k(first, 'engineCpuSeconds'), unit: 's' },
        { label: 'engine peak RSS', value: Math.max(...repetitions.map((repetition) => repetition.enginePeakRssMiB as number)), unit: 'MiB' },
        { label: 'producer events/s (pre-produce)', value: pick('produceEventsPerSecond'), unit: 'events/s' },
        { label: 'replay without broker, events/s (1 process)', value: firstRoundEvents.length / replaySeconds, unit: 'events/s', baseline: { label: 'engine through the broker', value: engineRate } },
        { label: 'replay events per CPU second (per core)', value: firstRoundEvents.length / replayCpuSeconds, unit: 'events/CPU s' },
      ],
      repetitions,
      notes: [
        `${totalEvents} events through one engine in ${rounds} rounds on the same topics (the mock broker keeps ~5 MiB per partition); round k is a day of its own simulated world (seed + k, two days after the last round's), the same mix of events every round. Each round is produced while the engine is frozen (SIGSTOP), then read by the bare loop (a consumer per round, one group), then by the engine (SIGCONT).`,
        'Rates run from the first record of the round (bare loop) or the round\'s start (the engine\'s partitions assigned in the first round, the SIGCONT in the others; its counter moves only on acknowledged outputs) to the last; start-up and group joins are left out.',
        'The first round is the engine\'s first seconds: V8 compiles its code meanwhile (bench/README.md, "The engine\'s first seconds"). The bare loop\'s code is a small part of the engine\'s and warms within its first round.',
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
