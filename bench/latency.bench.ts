/**
 * Decision latency (issue 10): a background producer of simulated events at a fixed rate
 * (default 5k events/s) and withdrawal requests injected at a known rate (default 20/s) on
 * players of their own; for each injected request, the time from just before its send to its
 * decision arriving at a reader of risk.decisions.v1 in this process (same clock), as
 * p50/p95/p99 per repetition, medians over the repetitions, and p95/p99 over all the repetitions'
 * requests together, the p99 with its 95% confidence interval from the order statistics (a
 * window's ~200 requests cannot bound a p99 from above; ~600 bound it by their 2nd largest).
 * The engine's first seconds at this rate (--warm-up-seconds, default 10) are measured the same way
 * but reported on their own, not in the medians: V8 is still compiling the engine's code then
 * (bench/README.md, "The engine's first seconds"), like the e2e bench's first round.
 * Baselines in the same run, for the same requests:
 *  - one broker hop: produce -> consume by a bare reader of casino.withdrawals.v1;
 *  - a do-nothing relay: a consumer of casino.withdrawals.v1 that produces each request unchanged
 *    (acks from all replicas, one request in flight, like the engine) to a relay topic read like
 *    the decisions. It has the decision's two broker hops and nothing else;
 *  - a loaded relay (bench/lib/loaded-relay.ts): a process of its own that consumes every topic the
 *    engine consumes, with the engine's consumer settings, and re-produces the requests the same
 *    way: the two hops under the engine's whole input, decoding nothing. It runs after the engine
 *    has stopped, for as many windows of the same length, rate and background, so it takes no
 *    CPU from the engine on this two-core machine.
 * The bench's own event-loop delay over the windows is reported too: a decision that arrives while
 * this process's loop is held is stamped late by as much, the engine's and the relays' alike.
 * The engine, the relays and the readers all fetch with the same maxWaitTimeInMs (default 10).
 * The mock broker answers a fetch that finds no data after the full wait, even when data arrives
 * meanwhile (a real broker answers on arrival), so on this broker the wait is part of every hop.
 * A run with another wait writes its result as `latency-wait-<N>ms` (RESULTS.md shows each).
 *
 *   npx tsx bench/latency.bench.ts [--rate 5000] [--withdrawals-per-second 20] [--seconds 10] [--repetitions 3] [--warm-up-seconds 10] [--seed 11] [--max-wait-ms 10] [--keep-substrate]
 */
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Partitioners, type Consumer, type Producer } from 'kafkajs'
import { sleep } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import { silentLogger } from '../core/logger.js'
import { OUTPUT_LATENCY_STAGES } from '../core/output-producer.js'
import { topicName } from '../core/topics.js'
import { stopSubstrate } from '../infra/substrate.js'
import type { Decision, Withdrawal } from '../schemas/generated/types.js'
import { player, withdrawal } from './events.js'
import { EngineChild, LATENCY_PLAYER_PREFIX, loadedRelayTopic, OutputReader, benchTopics, encodeEvents, machineInfo, median, outputProducerDelta, percentile, positiveIntegerOption, printFigures, quantileInterval, produceMessages, say, histogramDelta, histogramQuantile, scrapeCounter, scrapeHistogram, scrapeOutputProducer, simulatedEvents, startBenchSubstrate, writeBenchResult, type HistogramSeries } from './lib/harness.js'

const DEFAULT_MAX_WAIT_MS = 10
/** How often the engine's librdkafka reports its statistics in this bench (PITBOSS_KAFKA_OUTPUT_STATS_INTERVAL_MS). */
const OUTPUT_STATS_INTERVAL_MS = 2000

const { values: args } = parseArgs({ options: {
  rate: { type: 'string', default: '5000' }, 'withdrawals-per-second': { type: 'string', default: '20' },
  seconds: { type: 'string', default: '10' }, repetitions: { type: 'string', default: '3' },
  seed: { type: 'string', default: '11' }, 'max-wait-ms': { type: 'string', default: String(DEFAULT_MAX_WAIT_MS) }, 'warm-up-seconds': { type: 'string', default: '10' },
  'keep-substrate': { type: 'boolean', default: false },
} })

const LATENCY_PLAYERS = 200

async function main(): Promise<void> {
  const startedMs = Date.now()
  const base = loadConfig()
  const machine = machineInfo()
  const rate = Number(args.rate)
  const injectPerSecond = Number(args['withdrawals-per-second'])
  const windowSeconds = Number(args.seconds)
  const repetitions = positiveIntegerOption('repetitions', args.repetitions)
  const warmUpSeconds = Number(args['warm-up-seconds'])
  const benchDir = path.join(base.homeDir, 'bench', 'runs', `latency-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`)
  const substrate = await startBenchSubstrate(base.homeDir)
  const maxWaitMs = Number(args['max-wait-ms'])
  const run = await benchTopics(substrate, benchDir, 'latency', { PITBOSS_KAFKA_MAX_WAIT_MS: String(maxWaitMs) })
  // Enough background for the warm-up, the engine's windows and the loaded relay's, plus the gaps
  // between them. The mock keeps ~5 MiB per partition and drops the oldest; every reader here
  // reads live, so what it drops has been read.
  const background = simulatedEvents(Number(args.seed), Math.ceil(rate * (warmUpSeconds + 2 * windowSeconds * repetitions + 30)), base.referenceDataDir)
  const startMs = background[0]?.value.eventTimeMs ?? 0
  const decisions = await new OutputReader<Decision>(run, 'decisions', maxWaitMs).start()
  const brokerHop = await new OutputReader<Withdrawal>(run, 'withdrawals', maxWaitMs).start()
  const relay = await startRelay(run, maxWaitMs)
  // librdkafka's statistics every 2 s rather than the default 10: the windows' means then start and
  // end within 2 s of the windows (one ~70 KB report parsed on the main thread per interval).
  const engine = new EngineChild(run, 'engine', 'pipelines/main.ts', { PITBOSS_KAFKA_OUTPUT_STATS_INTERVAL_MS: String(OUTPUT_STATS_INTERVAL_MS) }).start()
  const producer = createKafka(run.config.kafka, silentLogger).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  const withdrawalsTopic = topicName(run.config.kafka, 'withdrawals')
  const sentMs = new Map<string, number>()
  let injected = 0
  let latestEventTimeMs = startMs
  const inject = async (): Promise<string> => {
    injected += 1
    const playerId = `${LATENCY_PLAYER_PREFIX}${injected % LATENCY_PLAYERS}`
    const withdrawalId = `latency-wd-${injected}`
    const value = run.codec.encode('withdrawals', withdrawal({ playerId, withdrawalId, eventTimeMs: latestEventTimeMs, amountMinor: 50_00 + (injected % 97) * 100 }))
    sentMs.set(withdrawalId, performance.now())
    await producer.send({ topic: withdrawalsTopic, messages: [{ key: playerId, value }], acks: -1 })
    return withdrawalId
  }
  const decidedAt = (): Map<string, number> => new Map(decisions.received.map((entry) => [entry.value.withdrawalId, entry.receivedMs]))
  // The engine's own split of its part (pitboss_decision_stage_seconds), over the windows.
  const STAGES = ['to_task', 'refresh', 'merge', 'load', 'score', 'process', 'behind', 'pending_write', 'produce'] as const
  try {
    const metricsPort = await engine.metricsPort(120_000)
    // Warm-up: the latency players registered, and one request decided (the group has joined).
    await produceMessages(run.config, encodeEvents(run.codec, Array.from({ length: LATENCY_PLAYERS }, (_, index) => ({ topic: 'players' as const, value: player({ playerId: `${LATENCY_PLAYER_PREFIX}${index}`, eventTimeMs: startMs - 60_000 }) }))))
    const firstRequest = await inject()
    await decisions.waitFor(() => decidedAt().has(firstRequest), 120_000, 'the warm-up decision')

    let backgroundProduced = 0
    const backgroundStartMs = performance.now()
    let stopBackground = false
    const backgroundDone = produceMessages(run.config, encodeEvents(run.codec, background), {
      ratePerSecond: rate,
      beforeBatch: async () => { if (stopBackground) throw new Error('stopped') },
      onProgress: (produced) => {
        backgroundProduced = produced
        latestEventTimeMs = background[produced - 1]?.value.eventTimeMs ?? latestEventTimeMs
      },
    }).catch((error: unknown) => { if (!stopBackground) throw error })
    await sleep(2_000) // the background reaches its rate before the first window

    // Requests at the injection rate for `seconds`, back to back while the background runs; their
    // decisions are awaited afterwards, so a slow engine shows as queueing in the figures rather
    // than as pauses in the background.
    const injectWindow = async (seconds: number): Promise<{ ids: string[]; achievedRate: number }> => {
      const ids: string[] = []
      const windowStartMs = performance.now()
      const producedAtStart = backgroundProduced
      for (let index = 0; performance.now() - windowStartMs < seconds * 1000; index += 1) {
        ids.push(await inject())
        const aheadMs = windowStartMs + ((index + 1) / injectPerSecond) * 1000 - performance.now()
        if (aheadMs > 0) await sleep(aheadMs)
      }
      return { ids, achievedRate: (backgroundProduced - producedAtStart) / ((performance.now() - windowStartMs) / 1000) }
    }
    const latenciesOf = (ids: readonly string[], received: ReadonlyMap<string, number>): number[] =>
      ids.flatMap((id) => (received.has(id) ? [(received.get(id) as number) - (sentMs.get(id) as number)] : []))

    // The engine's first seconds at this rate, while V8 still compiles its code (bench/README.md,
    // "The engine's first seconds"): measured and reported on their own, not in the medians.
    const warmUp = warmUpSeconds > 0 ? await injectWindow(warmUpSeconds) : null

    const stagesBefore = await scrapeHistogram(metricsPort, 'pitboss_decision_stage_seconds', 'stage')
    const watermarkRequestsBefore = await scrapeCounter(metricsPort, 'pitboss_high_watermark_requests_total')
    const refreshesBefore = (await scrapeHistogram(metricsPort, 'pitboss_high_watermark_refresh_seconds')).get('')
    const producerBefore = await scrapeOutputProducer(metricsPort)
    const windowsStartMs = performance.now()
    // This process times every request on its own event loop: a turn that holds the loop when a
    // decision arrives delays its timestamp by as much (engine and relay alike).
    const loopDelay = monitorEventLoopDelay({ resolution: 1 })
    loopDelay.enable()
    const windows: Array<{ ids: string[]; achievedRate: number }> = []
    for (let repetition = 0; repetition < repetitions; repetition += 1) windows.push(await injectWindow(windowSeconds))
    loopDelay.disable()
    const loopDelayMs = (q: number): number => loopDelay.percentile(q) / 1e6
    say(`this process's event-loop delay in the windows (1 ms timer): p50 ${loopDelayMs(50).toFixed(1)} ms, p99 ${loopDelayMs(99).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`)
    const rows: Array<Record<string, number>> = []
    // Every window's requests together: a p99 from ~600 requests rather than the 2nd largest of ~200.
    const pooled: number[] = []
    const pooledRelay: number[] = []
    for (const [repetition, window] of windows.entries()) {
      const windowIds = window.ids
      await decisions.waitFor(() => { const seen = decidedAt(); return windowIds.every((id) => seen.has(id)) }, 30 * 60_000, `the decisions of window ${repetition + 1}`)
      const decided = decidedAt()
      const hops = new Map(brokerHop.received.map((entry) => [entry.value.withdrawalId, entry.receivedMs]))
      const latencies = latenciesOf(windowIds, decided) // every one is decided (awaited above)
      const hopLatencies = latenciesOf(windowIds, hops)
      const relayLatencies = latenciesOf(windowIds, relay.receivedMs)
      const row = {
        requests: windowIds.length, achievedBackgroundPerSecond: window.achievedRate,
        p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95), p99Ms: percentile(latencies, 0.99), maxMs: Math.max(...latencies),
        brokerHopP50Ms: percentile(hopLatencies, 0.5), brokerHopP99Ms: percentile(hopLatencies, 0.99),
        relayP50Ms: percentile(relayLatencies, 0.5), relayP95Ms: percentile(relayLatencies, 0.95), relayP99Ms: percentile(relayLatencies, 0.99), relayed: relayLatencies.length,
      }
      rows.push(row)
      pooled.push(...latencies)
      pooledRelay.push(...relayLatencies)
      say(`window ${repetition + 1}/${repetitions}: ${row.requests} requests, background ${Math.round(row.achievedBackgroundPerSecond)} ev/s, p50 ${row.p50Ms.toFixed(1)} ms, p95 ${row.p95Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms (broker hop p50 ${row.brokerHopP50Ms.toFixed(1)}, p99 ${row.brokerHopP99Ms.toFixed(1)}; relay p50 ${row.relayP50Ms.toFixed(1)}, p99 ${row.relayP99Ms.toFixed(1)})`)
    }
    const stagesAfter = await scrapeHistogram(metricsPort, 'pitboss_decision_stage_seconds', 'stage')
    const producerAfter = await scrapeOutputProducer(metricsPort)
    const windowsSeconds = (performance.now() - windowsStartMs) / 1000
    const watermarkRequestsPerSecond = (await scrapeCounter(metricsPort, 'pitboss_high_watermark_requests_total') - watermarkRequestsBefore) / windowsSeconds
    const stageWindows = new Map<string, HistogramSeries>(STAGES.map((stage) => [stage, histogramDelta(stagesBefore.get(stage), stagesAfter.get(stage))]))
    const stageMs = (stage: string, q: number | 'mean'): number => {
      const series = stageWindows.get(stage) as HistogramSeries
      return (q === 'mean' ? (series.count === 0 ? Number.NaN : series.sum / series.count) : histogramQuantile(series, q)) * 1000
    }
    const stagesDecided = stageWindows.get('produce')?.count ?? 0
    const refreshesAfter = (await scrapeHistogram(metricsPort, 'pitboss_high_watermark_refresh_seconds')).get('')
    const refreshes = histogramDelta(refreshesBefore, refreshesAfter)
    say(`engine high-watermark refreshes: ${refreshes.count} rounds, ${watermarkRequestsPerSecond.toFixed(0)} topics asked per second` + (refreshes.count > 0 ? `; a round took p50 ${(histogramQuantile(refreshes, 0.5) * 1000).toFixed(1)} ms, p99 ${(histogramQuantile(refreshes, 0.99) * 1000).toFixed(1)} ms` : ''))
    say(`engine stages over ${stagesDecided} decisions, mean / p99 (histogram buckets): ${STAGES.map((stage) => `${stage} ${stageMs(stage, 'mean').toFixed(2)} / ${stageMs(stage, 0.99).toFixed(1)} ms`).join(', ')}`)
    const produced = outputProducerDelta(producerBefore.primary, producerAfter.primary, windowsSeconds)
    const producedBulk = outputProducerDelta(producerBefore.bulk, producerAfter.bulk, windowsSeconds)
    for (const [lane, path] of [['primary', produced], ['bulk (link records)', producedBulk]] as const) {
      say(`librdkafka's produce path over the windows, ${lane} lane (its statistics every ${OUTPUT_STATS_INTERVAL_MS / 1000} s): ${path.requestsPerSecond.toFixed(0)} produce requests/s of ${path.messagesPerRequest.toFixed(2)} messages; mean ${OUTPUT_LATENCY_STAGES.map((stage) => `${stage} ${path.meanMs[stage].toFixed(2)} ms`).join(', ')}`)
    }
    let warmUpRow: { requests: number; decided: number; p50Ms: number; p99Ms: number; relayP99Ms: number } | null = null
    if (warmUp !== null) {
      const warmUpLatencies = latenciesOf(warmUp.ids, decidedAt())
      const warmUpRelay = latenciesOf(warmUp.ids, relay.receivedMs)
      const row = { requests: warmUp.ids.length, decided: warmUpLatencies.length, p50Ms: percentile(warmUpLatencies, 0.5), p99Ms: percentile(warmUpLatencies, 0.99), relayP99Ms: percentile(warmUpRelay, 0.99) }
      warmUpRow = row
      say(`warm-up (first ${warmUpSeconds} s at this rate, not in the medians): ${row.requests} requests, p50 ${row.p50Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms (relay p99 ${row.relayP99Ms.toFixed(1)})`)
    }

    // The loaded relay (bench/lib/loaded-relay.ts), in a phase of its own once the engine has
    // stopped (run beside it, its 5k events/s would take CPU from the engine on this machine):
    // the client and broker under the engine's whole input, with the same requests, rate and
    // background as the engine's windows.
    const engineExit = await engine.stop('SIGTERM')
    const engineExitNote = engineExit === 0 ? [] : [`The engine did not exit cleanly on SIGTERM (${JSON.stringify(engine.exits.at(-1))}); see ${engine.logFile}.`]
    if (engineExit !== 0) say(`warning: ${engineExitNote[0]}`)
    const loadedReader = await startRelayReader(run, loadedRelayTopic(run.prefix), maxWaitMs)
    const loadedRelay = new EngineChild(run, 'loaded-relay', 'bench/lib/loaded-relay.ts').start()
    const loadedRows: Array<Record<string, number>> = []
    const pooledLoaded: number[] = []
    const pooledLoadedRelay: number[] = []
    try {
      await loadedRelay.waitForLog((line) => line.msg === 'loaded relay ready', 120_000)
      await sleep(2_000)
      const loadedWindows: Array<{ ids: string[]; achievedRate: number }> = []
      for (let repetition = 0; repetition < repetitions; repetition += 1) loadedWindows.push(await injectWindow(windowSeconds))
      const allIds = loadedWindows.flatMap((window) => window.ids)
      const deadlineMs = Date.now() + 120_000
      while (!allIds.every((id) => loadedReader.receivedMs.has(id))) {
        if (Date.now() > deadlineMs) throw new Error(`the loaded relay forwarded ${allIds.filter((id) => loadedReader.receivedMs.has(id)).length} of ${allIds.length} requests within 120 s; see ${loadedRelay.logFile}`)
        await sleep(50)
      }
      for (const [repetition, window] of loadedWindows.entries()) {
        const latencies = latenciesOf(window.ids, loadedReader.receivedMs)
        const relayLatencies = latenciesOf(window.ids, relay.receivedMs)
        const row = { requests: window.ids.length, achievedBackgroundPerSecond: window.achievedRate, p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95), p99Ms: percentile(latencies, 0.99), relayP50Ms: percentile(relayLatencies, 0.5), relayP99Ms: percentile(relayLatencies, 0.99) }
        loadedRows.push(row)
        pooledLoaded.push(...latencies)
        pooledLoadedRelay.push(...relayLatencies)
        say(`loaded relay window ${repetition + 1}/${repetitions}: ${row.requests} requests, background ${Math.round(row.achievedBackgroundPerSecond)} ev/s, p50 ${row.p50Ms.toFixed(1)} ms, p95 ${row.p95Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms (do-nothing relay p50 ${row.relayP50Ms.toFixed(1)}, p99 ${row.relayP99Ms.toFixed(1)})`)
      }
    } finally {
      const relayExit = await loadedRelay.stop('SIGTERM')
      if (relayExit !== 0) say(`warning: the loaded relay exited with ${relayExit}; see ${loadedRelay.logFile}`)
      await loadedReader.stop()
    }
    const pickLoaded = (name: string): number => median(loadedRows.map((row) => row[name] as number))
    stopBackground = true
    await backgroundDone
    const backgroundSeconds = (performance.now() - backgroundStartMs) / 1000
    const pick = (name: string): number => median(rows.map((row) => row[name] as number))
    const duplicates = decisions.received.length - decidedAt().size
    const result = {
      // Other fetch waits than the default are results of their own (RESULTS.md shows each).
      name: maxWaitMs === DEFAULT_MAX_WAIT_MS ? 'latency' : `latency-wait-${maxWaitMs}ms`,
      title: `Decision latency: withdrawal produced -> decision consumed, at a fixed background rate, ${maxWaitMs} ms fetch wait`, dateIso: new Date().toISOString(), durationSeconds: (Date.now() - startedMs) / 1000, machine,
      parameters: { targetBackgroundPerSecond: rate, injectedPerSecond: injectPerSecond, windowSeconds, repetitions, warmUpSeconds, seed: Number(args.seed), maxWaitMs: run.config.kafka.maxWaitTimeMs },
      figures: [
        { label: 'achieved background rate (median of windows)', value: pick('achievedBackgroundPerSecond'), unit: 'events/s', baseline: { label: 'target', value: rate } },
        { label: 'latency p50', value: pick('p50Ms'), unit: 'ms', baseline: { label: 'do-nothing relay p50', value: pick('relayP50Ms') } },
        { label: 'latency p95', value: pick('p95Ms'), unit: 'ms', baseline: { label: 'do-nothing relay p95', value: pick('relayP95Ms') } },
        { label: 'latency p99', value: pick('p99Ms'), unit: 'ms', baseline: { label: 'do-nothing relay p99', value: pick('relayP99Ms') }, goal: '<= 25 ms at 5k events/s', met: pick('p99Ms') <= 25 && pick('achievedBackgroundPerSecond') >= 0.95 * 5000 },
        { label: `latency p95, all ${pooled.length} requests`, value: percentile(pooled, 0.95), unit: 'ms', baseline: { label: 'do-nothing relay', value: percentile(pooledRelay, 0.95) } },
        { label: `latency p99, all ${pooled.length} requests (95% interval ${intervalText(pooled)}; relay ${intervalText(pooledRelay)})`, value: percentile(pooled, 0.99), unit: 'ms', baseline: { label: 'do-nothing relay', value: percentile(pooledRelay, 0.99) } },
        { label: 'latency max (median of windows)', value: pick('maxMs'), unit: 'ms' },
        { label: "the bench's own event-loop delay in the windows, p99 (timing error of any request that arrives meanwhile)", value: loopDelayMs(99), unit: 'ms', baseline: { label: 'max', value: loopDelay.max / 1e6 } },
        { label: 'one broker hop p50', value: pick('brokerHopP50Ms'), unit: 'ms' },
        { label: 'one broker hop p99', value: pick('brokerHopP99Ms'), unit: 'ms' },
        // Rounds are the merge's fallback: most idle topics' high watermarks come with the fetch answers (pipelines/kafka/fetch-answers.ts).
        { label: 'engine high-watermark refresh rounds (ListOffsets) in the windows', value: refreshes.count, unit: 'rounds' },
        { label: 'engine high-watermark requests (topics asked)', value: watermarkRequestsPerSecond, unit: '/s' },
        ...(refreshes.count > 0 ? [{ label: 'engine high-watermark refresh round p50', value: histogramQuantile(refreshes, 0.5) * 1000, unit: 'ms', baseline: { label: 'p99', value: histogramQuantile(refreshes, 0.99) * 1000 } }] : []),
        { label: 'loaded relay p50 (median of its windows)', value: pickLoaded('p50Ms'), unit: 'ms', baseline: { label: 'do-nothing relay p50 in those windows', value: pickLoaded('relayP50Ms') } },
        { label: 'loaded relay p99 (median of its windows)', value: pickLoaded('p99Ms'), unit: 'ms', baseline: { label: 'do-nothing relay p99 in those windows', value: pickLoaded('relayP99Ms') } },
        { label: `loaded relay p99, all ${pooledLoaded.length} requests (95% interval ${intervalText(pooledLoaded)})`, value: percentile(pooledLoaded, 0.99), unit: 'ms', baseline: { label: 'do-nothing relay', value: percentile(pooledLoadedRelay, 0.99) } },
        ...(warmUpRow === null ? [] : [{ label: `warm-up: the engine's first ${warmUpSeconds} s at this rate, p99 (not in the medians)`, value: warmUpRow.p99Ms, unit: 'ms', baseline: { label: 'do-nothing relay', value: warmUpRow.relayP99Ms } }]),
        ...STAGES.map((stage) => ({ label: `engine stage ${stage}: mean (p99 from buckets ${stageMs(stage, 0.99).toFixed(1)} ms)`, value: stageMs(stage, 'mean'), unit: 'ms' })),
        { label: 'librdkafka produce requests in the windows, primary lane (decisions and the rest)', value: produced.requestsPerSecond, unit: '/s', baseline: { label: 'messages per request', value: produced.messagesPerRequest } },
        ...OUTPUT_LATENCY_STAGES.map((stage) => ({ label: `librdkafka ${stage}, primary lane: mean`, value: produced.meanMs[stage], unit: 'ms' })),
        { label: 'librdkafka produce requests in the windows, bulk lane (link records)', value: producedBulk.requestsPerSecond, unit: '/s', baseline: { label: 'messages per request', value: producedBulk.messagesPerRequest } },
        { label: 'librdkafka queue, bulk lane: mean', value: producedBulk.meanMs.queue, unit: 'ms' },
      ],
      repetitions: rows,
      phases: { loadedRelay: loadedRows, warmUp: warmUpRow === null ? [] : [warmUpRow] },
      notes: [
        `Background: ${backgroundProduced} simulated events over ${backgroundSeconds.toFixed(1)} s; ${injected} injected requests, ${duplicates} duplicate decisions seen.`,
        `Latency is measured in this process from just before the send of a request (acks from all replicas) to its decision reaching a reader. The engine, the relay and the readers fetch with maxWaitTimeInMs ${maxWaitMs}: the mock broker holds a fetch that finds no data for the full wait (a real broker answers when data arrives; the engine's default is 100 ms).`,
        `Engine stages: the engine's pitboss_decision_stage_seconds over the windows, every decision in them (${stagesDecided}, the background's withdrawals too): arrival in the engine to a place in its task's queue (to_task), waiting there for idle topics' high watermarks (refresh) and for earlier batches and other tasks (merge), the batch's player states read from the store (load), the model (score), the rest of the processing (process), behind earlier batches' outputs, the pending-record write, the produce until acknowledged. The rest of a request's latency is its two broker hops.`,
        `librdkafka's produce path (pitboss_output_producer_*, from its statistics every ${OUTPUT_STATS_INTERVAL_MS / 1000} s, so over the windows give or take one interval): every output message's wait from its hand-over until it is in a produce request (queue), each request's wait for its socket (outbuf) and its round trip to the broker's answer (rtt). librdkafka puts one partition in each request and each lane keeps one in flight, so a batch's outputs to several partitions of a lane wait for each other's round trips; the link records have a lane of their own (bulk), the decisions and the other outputs share the primary one. Part of the engine's produce stage; the rest is the two threads' turns (the outputs crossing to the main thread, the acknowledgements back).`,
        'The do-nothing relay reads the requests and produces them unchanged to another topic (acks from all replicas, one request in flight), read like the decisions: the two broker hops of a decision and no work.',
        `The loaded relay (bench/lib/loaded-relay.ts) is a process of its own that consumes every topic the engine consumes, with the engine's consumer settings, and re-produces the requests unchanged: the two hops under the engine's whole input, decoding nothing. It runs after the engine has stopped, over ${repetitions} windows of the same length, rate and background.`,
        `The engine's first ${warmUpSeconds} s at this rate are measured as a warm-up window and reported on their own, like the e2e bench's first round (V8 still compiling the engine's code).`,
        `Machine load average at start ${machine.loadAverage1m} on ${machine.cpus} CPUs.`,
        ...engineExitNote,
      ],
    }
    printFigures(result)
    say(`wrote ${writeBenchResult(base.homeDir, result)}`)
  } finally {
    await producer.disconnect()
    await decisions.stop()
    await brokerHop.stop()
    await relay.stop()
    await engine.stop('SIGTERM') // stopped before the loaded relay's phase unless that was not reached
    if (!args['keep-substrate']) await stopSubstrate(path.join(base.homeDir, 'bench-substrate'))
  }
}

/** A p99's 95% confidence interval from the sample's order statistics (harness.ts, quantileInterval), as text: "17.9-31.0 ms"; an open side is "?". */
function intervalText(latencies: readonly number[]): string {
  const { low, high } = quantileInterval(latencies, 0.99)
  return `${low === null ? '?' : low.toFixed(1)}-${high === null ? '?' : high.toFixed(1)} ms`
}

/**
 * The do-nothing relay (see the header): every injected request re-produced unchanged to
 * `<prefix>bench.latency-relay` (the mock creates it on first use), and the time each reaches a
 * reader of that topic.
 */
async function startRelay(run: Awaited<ReturnType<typeof benchTopics>>, maxWaitTimeInMs: number): Promise<{ receivedMs: Map<string, number>; stop(): Promise<void> }> {
  const kafka = createKafka(run.config.kafka, silentLogger)
  const relayTopic = `${run.prefix}bench.latency-relay`
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true, maxInFlightRequests: 1 })
  const source: Consumer = kafka.consumer({ groupId: `${run.id}-relay`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs })
  const reader = await startRelayReader(run, relayTopic, maxWaitTimeInMs)
  await producer.connect()
  await source.connect()
  await source.subscribe({ topic: topicName(run.config.kafka, 'withdrawals'), fromBeginning: true })
  await source.run({
    eachBatch: async ({ batch }) => {
      const messages = batch.messages.filter((message) => message.key?.toString('utf8').startsWith(LATENCY_PLAYER_PREFIX) === true).map((message) => ({ key: message.key, value: message.value }))
      if (messages.length > 0) await producer.send({ topic: relayTopic, messages, acks: -1 })
    },
  })
  return { receivedMs: reader.receivedMs, stop: async () => { await Promise.all([source.disconnect(), reader.stop()]); await producer.disconnect() } }
}

/** A reader of a relay's topic (created here first): when each relayed request arrived, by withdrawalId. */
async function startRelayReader(run: Awaited<ReturnType<typeof benchTopics>>, topic: string, maxWaitTimeInMs: number): Promise<{ receivedMs: Map<string, number>; stop(): Promise<void> }> {
  const kafka = createKafka(run.config.kafka, silentLogger)
  const creator: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true })
  await creator.connect()
  // The mock creates the topic on first use; it exists before the reader subscribes to it.
  await creator.send({ topic, messages: [{ key: 'bench', value: Buffer.from('created') }], acks: -1 })
  await creator.disconnect()
  const sink: Consumer = kafka.consumer({ groupId: `${run.id}-reader-${topic}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs })
  const receivedMs = new Map<string, number>()
  await sink.connect()
  await sink.subscribe({ topic, fromBeginning: true })
  await sink.run({
    eachMessage: async ({ message }) => {
      const at = performance.now()
      if (message.key?.toString('utf8') === 'bench') return
      const decoded = await run.codec.decode('withdrawals', message.value)
      if (decoded.ok) receivedMs.set((decoded.value as Withdrawal).withdrawalId, at)
    },
  })
  return { receivedMs, stop: () => sink.disconnect() }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`latency bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
