/**
 * Shared parts of the end-to-end benchmarks (bench/e2e, latency, scale-out, memory, faults):
 * a bench substrate of its own, fresh topics per run, the engine as a child process whose
 * metrics endpoint is found from its log, producing with back-pressure (the local mock broker
 * keeps only ~5 MiB per partition and silently drops the oldest, INFRA-NOTES.md), a decision
 * reader that timestamps arrivals, statistics, and the JSON each bench writes for
 * bench/results.ts.
 *
 * Example:
 *   const substrate = await startBenchSubstrate(config.homeDir)
 *   const run = await benchTopics(substrate, runDir, 'e2e-1')
 *   await produceMessages(run.config, encodeEvents(run.codec, events))
 *   const engine = new EngineChild(run, 'engine').start()
 *   const port = await engine.metricsPort()
 *   await scrapeCounter(port, 'pitboss_events_processed_total') // events so far
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Partitioners, type Consumer } from 'kafkajs'
import { sleep } from '../../core/clock.js'
import type { PitbossConfig } from '../../core/config.js'
import { RiskError } from '../../core/errors.js'
import { createKafka } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { OUTPUT_LATENCY_STAGES, type OutputLane, type OutputLatencyStage } from '../../core/output-producer.js'
import { CASINO_TOPIC_KEYS, topicName, type TopicKey } from '../../core/topics.js'
import { isolatedRun } from '../../infra/isolated-run.js'
import { startSubstrate, type SubstrateInfo } from '../../infra/substrate.js'
import type { AvroCodec } from '../../schemas/codec.js'
import { loadSanctionedName } from '../simulator/sanctions.js'
import { simulate } from '../simulator/simulate.js'
import type { SimulatedEvent } from '../simulator/world.js'
import { nodeArgs } from '../../infra/node-args.js'

export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Linux reports CPU time in /proc in USER_HZ ticks, 100 a second on every mainstream kernel. */
const USER_HZ = 100

/** Prints one line to stdout. */
export const say = (line: string): void => void process.stdout.write(`${line}\n`)

/**
 * The bench substrate lives in `${homeDir}/bench-substrate`, apart from the development one, so
 * a bench can stop it afterwards and free the broker's memory (the mock cannot delete topics).
 */
export async function startBenchSubstrate(homeDir: string): Promise<SubstrateInfo> {
  return startSubstrate({ homeDir: path.join(homeDir, 'bench-substrate'), brokerCount: 1, clickhouseDatabase: 'pitboss_bench' })
}

export interface BenchTopics {
  readonly id: string
  readonly prefix: string
  readonly runDir: string
  readonly env: Record<string, string>
  readonly config: PitbossConfig
  readonly codec: AvroCodec
}

/**
 * Fresh catalog topics (prefix `${label}-${random}.`), engine group, state folder and ClickHouse
 * database for one measured run; `overrides` are PITBOSS_* variables on top.
 */
export async function benchTopics(substrate: SubstrateInfo, parentDir: string, label: string, overrides: Record<string, string> = {}): Promise<BenchTopics> {
  const id = `${label}-${randomUUID().slice(0, 8)}`
  const prefix = `${id}.`
  const runDir = path.join(parentDir, id)
  fs.mkdirSync(runDir, { recursive: true })
  const { env, config, codec } = await isolatedRun(substrate, id, runDir, overrides)
  return { id, prefix, runDir, env, config, codec }
}

/** Simulated events per ordinary player and day (measured: 38.6k events for 2000 players, seed 7). */
const EVENTS_PER_PLAYER_DAY = 19

/**
 * About `count` simulated events: one simulated day (with planted typologies and a sanctioned
 * name) of enough players, cut to `count` in event-time order. Deterministic for a seed; the day
 * starts at `startMs` (default the simulator's). Worlds of different seeds share no player.
 */
export function simulatedEvents(seed: number, count: number, referenceDataDir: string, startMs?: number): SimulatedEvent[] {
  const players = Math.ceil(count / EVENTS_PER_PLAYER_DAY) + 50
  const { events } = simulate({ seed, players, days: 1, startMs, sanctionedName: loadSanctionedName(referenceDataDir, seed) })
  return events.slice(0, count)
}

export interface OutgoingMessage {
  readonly topic: TopicKey
  readonly key: string | null
  readonly value: Buffer | null
}

export function encodeEvents(codec: AvroCodec, events: readonly SimulatedEvent[]): OutgoingMessage[] {
  return events.map((event) => ({ topic: event.topic, key: event.value.playerId, value: codec.encode(event.topic, event.value) }))
}

export interface ProduceOptions {
  /** Messages per sendBatch (default 1000: the mock returns one record batch per partition per fetch). */
  readonly batchSize?: number
  /** Target messages per second; 0 or absent = as fast as the broker takes them. */
  readonly ratePerSecond?: number
  /**
   * Called before each batch with the number produced so far; resolves when producing may go on.
   * Used for back-pressure so no partition outgrows the mock's ~5 MiB.
   */
  readonly beforeBatch?: (produced: number) => Promise<void>
  readonly onProgress?: (produced: number) => void
}

/** Produces through one kafkajs producer, grouped by topic per batch, acks from all replicas. */
export async function produceMessages(config: PitbossConfig, messages: readonly OutgoingMessage[], options: ProduceOptions = {}): Promise<void> {
  const producer = createKafka(config.kafka, silentLogger).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    const rate = options.ratePerSecond ?? 0
    const batchSize = rate > 0 ? Math.max(1, Math.min(options.batchSize ?? 1000, Math.ceil(rate / 20))) : options.batchSize ?? 1000
    const startedMs = performance.now()
    for (let start = 0; start < messages.length; start += batchSize) {
      await options.beforeBatch?.(start)
      const byTopic = new Map<string, Array<{ key: string | null; value: Buffer | null }>>()
      for (const message of messages.slice(start, start + batchSize)) {
        const name = topicName(config.kafka, message.topic)
        const list = byTopic.get(name) ?? []
        list.push({ key: message.key, value: message.value })
        byTopic.set(name, list)
      }
      await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })), acks: -1 })
      const produced = Math.min(messages.length, start + batchSize)
      options.onProgress?.(produced)
      if (rate > 0) {
        const aheadMs = (produced / rate) * 1000 - (performance.now() - startedMs)
        if (aheadMs > 0) await sleep(aheadMs)
      }
    }
  } finally {
    await producer.disconnect()
  }
}

/** One line of the engine's pino log. */
export interface LogLine {
  readonly time: number
  readonly level: number
  readonly msg: string
  readonly [field: string]: unknown
}

/** The latency bench's injected requests are keyed by these players (latency.bench.ts, loaded-relay.ts). */
export const LATENCY_PLAYER_PREFIX = 'latency-player-'

/** The topic the latency bench's loaded relay (loaded-relay.ts) re-produces the requests to. */
export const loadedRelayTopic = (topicPrefix: string): string => `${topicPrefix}bench.latency-relay-loaded`

/** The engine (or another pitboss entry point) as a child process with its own log file. */
export class EngineChild {
  readonly logFile: string
  private child: ChildProcess | null = null
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null })
  /** Exit outcomes of every process this handle started, in order. */
  readonly exits: Array<{ code: number | null; signal: NodeJS.Signals | null }> = []

  constructor(private readonly run: Pick<BenchTopics, 'runDir' | 'env'>, readonly label: string, private readonly entry = 'pipelines/main.ts', private readonly extraEnv: Record<string, string> = {}) {
    this.logFile = path.join(run.runDir, `${label}.log`)
  }

  start(): this {
    const log = fs.openSync(this.logFile, 'a')
    // PITBOSS_BENCH_NODE_ARGS: extra node flags for the child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (node refuses them in NODE_OPTIONS)
    const extraNodeFlags = (process.env.PITBOSS_BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')
    const child = spawn(process.execPath, nodeArgs(this.entry, extraNodeFlags), { cwd: REPOSITORY_ROOT, env: { ...process.env, ...this.run.env, ...this.extraEnv }, stdio: ['ignore', log, log] })
    fs.closeSync(log)
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.exits.push({ code, signal })
      resolve({ code, signal })
    }))
    return this
  }

  get pid(): number | null {
    return this.child?.pid ?? null
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null
  }

  /**
   * Freezes every thread of the process (SIGSTOP) or lets it go on (SIGCONT): the e2e bench holds
   * a warm engine still while the next round is produced. Its group membership lasts while the
   * freeze is shorter than its session timeout.
   */
  freeze(): void {
    if (this.running) this.child?.kill('SIGSTOP')
  }

  thaw(): void {
    if (this.running) this.child?.kill('SIGCONT')
  }

  /** Sends the signal and waits for the exit; returns the exit code (null when killed by a signal, and when no process was running: stopped already or never started). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child === null) return null
    if (this.running) {
      this.child.kill(signal)
      // A frozen process (freeze) would hold the signal until it runs again.
      if (this.running) this.child.kill('SIGCONT')
    }
    const outcome = await this.exited
    this.child = null
    return outcome.code
  }

  logLines(): LogLine[] {
    if (!fs.existsSync(this.logFile)) return []
    const lines: LogLine[] = []
    for (const text of fs.readFileSync(this.logFile, 'utf8').split('\n')) {
      if (!text.startsWith('{')) continue
      try {
        lines.push(JSON.parse(text) as LogLine)
      } catch {
        // a line cut by SIGKILL
      }
    }
    return lines
  }

  /** Waits for a log line matching `predicate` written after `sinceMs` (epoch). */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, sinceMs = 0): Promise<LogLine> {
    const deadlineMs = Date.now() + timeoutMs
    for (;;) {
      const found = this.logLines().find((line) => line.time >= sinceMs && predicate(line))
      if (found !== undefined) return found
      if (!this.running && this.child !== null) throw new RiskError('RISK_ERR_SUBSTRATE', `${this.label} exited before logging what was awaited; see ${this.logFile}`, { logFile: this.logFile })
      if (Date.now() > deadlineMs) throw new RiskError('RISK_ERR_SUBSTRATE', `${this.label} did not log what was awaited within ${timeoutMs} ms; see ${this.logFile}`, { logFile: this.logFile })
      await sleep(50)
    }
  }

  /** The metrics port of the current process, from its 'engine started' line. */
  async metricsPort(timeoutMs = 60_000, sinceMs = 0): Promise<number> {
    const line = await this.waitForLog((entry) => entry.msg === 'engine started' && typeof entry.metricsPort === 'number', timeoutMs, sinceMs)
    return line.metricsPort as number
  }

  /** Resident set size of the process, from /proc (bytes; 0 when it is gone). */
  rssBytes(): number {
    if (this.child?.pid === undefined) return 0
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))
      return match === null ? 0 : Number(match[1]) * 1024
    } catch {
      return 0
    }
  }

  /** CPU seconds (user + system) the process has used, from /proc; 0 when it is gone. */
  cpuSeconds(): number {
    if (this.child?.pid === undefined) return 0
    try {
      const fields = fs.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
      // after the command: state is field 3, utime 14 and stime 15 (1-based in proc(5))
      return (Number(fields[11]) + Number(fields[12])) / USER_HZ
    } catch {
      return 0
    }
  }
}

/**
 * Where a rate read off an engine's processed counter starts: when the engine logged its
 * partitions assigned, i.e. when it could first fetch. Not when the counter first moved: it moves
 * when a batch's outputs are acknowledged, and a round whose first acknowledgements came seconds
 * late had done most of its work by then (session 12's RESULTS run had a round at 0.89 of the
 * bare loop, session 13's first one at 1.60 on 3.4 CPU s, with the counter at 0 for ~4.5 s of a
 * ~7 s round). Call `sample` on every poll; the CPU at the start is the last sample taken at or
 * before it (or the first one), so the CPU figure may start up to one poll late.
 *
 *   const start = new RoundStart([engine])
 *   start.sample()  // every poll
 *   const { startMs, startCpuSeconds } = start.resolve()  // once the round is done
 */
export class RoundStart {
  private readonly samples: Array<{ readonly epochMs: number; readonly cpuSeconds: number }> = []

  constructor(private readonly engines: readonly EngineChild[]) {}

  sample(): void {
    this.samples.push({ epochMs: Date.now(), cpuSeconds: this.engines.reduce((sum, engine) => sum + engine.cpuSeconds(), 0) })
  }

  /** `startMs` on this process's performance.now() clock; the CPU of the engines then. */
  resolve(): { readonly startMs: number; readonly startCpuSeconds: number } {
    const assigned = this.engines.flatMap((engine) => engine.logLines().filter((line) => line.msg === 'partitions assigned').map((line) => line.time))
    if (assigned.length === 0) throw new Error(`no engine logged its partitions assigned; see ${this.engines.map((engine) => engine.logFile).join(', ')}`)
    const startEpochMs = Math.min(...assigned)
    const before = this.samples.filter((entry) => entry.epochMs <= startEpochMs)
    const cpu = (before[before.length - 1] ?? this.samples[0])?.cpuSeconds ?? 0
    return { startMs: performance.now() - (Date.now() - startEpochMs), startCpuSeconds: cpu }
  }
}

/** The Prometheus exposition text an engine serves on 127.0.0.1:`port`/metrics. */
export async function scrapeMetricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
}

/** Sum of every series of a Prometheus counter or gauge on 127.0.0.1:`port`/metrics (or of those whose labels `keep` accepts). */
export async function scrapeCounter(port: number, name: string, keep: (labels: string) => boolean = () => true): Promise<number> {
  return counterIn(await scrapeMetricsText(port), name, keep)
}

/** scrapeCounter on an exposition text already fetched. */
function counterIn(text: string, name: string, keep: (labels: string) => boolean = () => true): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue
    const labels = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : ''
    if (keep(labels)) total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}

/** The engine's pitboss_output_producer_* counters at one moment (librdkafka's statistics, core/output-producer.ts). */
export interface OutputProducerCounters {
  readonly requests: number
  readonly messages: number
  readonly latencySeconds: Readonly<Record<OutputLatencyStage, number>>
  readonly observations: Readonly<Record<OutputLatencyStage, number>>
}

/** Each lane's pitboss_output_producer_* counters (core/output-producer.ts, OutputLane), in one scrape. */
export async function scrapeOutputProducer(port: number): Promise<Record<OutputLane, OutputProducerCounters>> {
  const text = await scrapeMetricsText(port)
  const ofLane = (lane: OutputLane): OutputProducerCounters => {
    const inLane = (labels: string): boolean => labels.includes(`lane="${lane}"`)
    const byStage = (name: string): Record<OutputLatencyStage, number> =>
      Object.fromEntries(OUTPUT_LATENCY_STAGES.map((stage) => [stage, counterIn(text, name, (labels) => inLane(labels) && labels.includes(`stage="${stage}"`))])) as Record<OutputLatencyStage, number>
    return {
      requests: counterIn(text, 'pitboss_output_producer_requests_total', inLane),
      messages: counterIn(text, 'pitboss_output_producer_messages_total', inLane),
      latencySeconds: byStage('pitboss_output_producer_latency_seconds_total'),
      observations: byStage('pitboss_output_producer_latency_observations_total'),
    }
  }
  return { primary: ofLane('primary'), bulk: ofLane('bulk') }
}

/**
 * What librdkafka did between two scrapes `seconds` apart: produce requests a second, messages per
 * request, and each stage's mean (NaN where it saw nothing, e.g. the engine produced with kafkajs).
 * Example: outputProducerDelta(before, after, 30).meanMs.queue -> 1.2
 */
export function outputProducerDelta(before: OutputProducerCounters, after: OutputProducerCounters, seconds: number): { requestsPerSecond: number; messagesPerRequest: number; meanMs: Record<OutputLatencyStage, number> } {
  const requests = after.requests - before.requests
  const meanMs = Object.fromEntries(OUTPUT_LATENCY_STAGES.map((stage) => {
    const count = after.observations[stage] - before.observations[stage]
    return [stage, count > 0 ? ((after.latencySeconds[stage] - before.latencySeconds[stage]) / count) * 1000 : Number.NaN]
  })) as Record<OutputLatencyStage, number>
  return { requestsPerSecond: requests / seconds, messagesPerRequest: requests > 0 ? (after.messages - before.messages) / requests : Number.NaN, meanMs }
}

const CASINO_TOPIC_LABELS = CASINO_TOPIC_KEYS.map((key) => `topic="${key}"`)

/**
 * The events of the casino's topics (the ones the benches produce) the engine has processed.
 * `pitboss_events_processed_total` also counts the transfers the engine re-keys to their
 * receivers and reads back (`transfersReceived`): counted in, a round would end before the engine
 * processed all of the bench's events.
 */
export function scrapeInputsProcessed(port: number): Promise<number> {
  return scrapeCounter(port, 'pitboss_events_processed_total', (labels) => CASINO_TOPIC_LABELS.some((label) => labels.includes(label)))
}

/** One series of a Prometheus histogram: cumulative bucket counts by upper bound (seconds), sum and count. */
export interface HistogramSeries {
  readonly buckets: ReadonlyArray<readonly [le: number, count: number]>
  readonly sum: number
  readonly count: number
}

/** A histogram's series by the value of `label` (series with other labels are added together); all under '' without one. */
export async function scrapeHistogram(port: number, name: string, label?: string): Promise<Map<string, HistogramSeries>> {
  const text = await scrapeMetricsText(port)
  const series = new Map<string, { buckets: Map<number, number>; sum: number; count: number }>()
  const of = (value: string): { buckets: Map<number, number>; sum: number; count: number } => {
    const known = series.get(value) ?? { buckets: new Map<number, number>(), sum: 0, count: 0 }
    series.set(value, known)
    return known
  }
  const labelPattern = label === undefined ? null : new RegExp(`${label}="([^"]*)"`)
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_`)) continue
    const labelValue = labelPattern === null ? '' : labelPattern.exec(line)?.[1]
    if (labelValue === undefined) continue
    const entry = of(labelValue)
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]*)"/.exec(line)?.[1] ?? '+Inf'
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le)
      entry.buckets.set(bound, (entry.buckets.get(bound) ?? 0) + value)
    } else if (line.startsWith(`${name}_sum{`) || line.startsWith(`${name}_sum `)) entry.sum += value
    else if (line.startsWith(`${name}_count{`) || line.startsWith(`${name}_count `)) entry.count += value
  }
  return new Map([...series].map(([value, entry]) => [value, { buckets: [...entry.buckets].sort((a, b) => a[0] - b[0]), sum: entry.sum, count: entry.count }]))
}

/** What a histogram series gained between two scrapes (nothing if the second has none). */
export function histogramDelta(before: HistogramSeries | undefined, after: HistogramSeries | undefined): HistogramSeries {
  if (after === undefined) return { buckets: [], sum: 0, count: 0 }
  const earlier = new Map(before?.buckets ?? [])
  return { buckets: after.buckets.map(([le, count]) => [le, count - (earlier.get(le) ?? 0)] as const), sum: after.sum - (before?.sum ?? 0), count: after.count - (before?.count ?? 0) }
}

/**
 * Quantile q of a histogram series in its own unit, interpolated within the bucket like
 * Prometheus's histogram_quantile (the last finite bound if it falls in +Inf); NaN when empty.
 */
export function histogramQuantile(series: HistogramSeries, q: number): number {
  if (series.count === 0) return Number.NaN
  const rank = q * series.count
  let lowerBound = 0
  let lowerCount = 0
  for (const [le, count] of series.buckets) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lowerBound
      return count === lowerCount ? le : lowerBound + ((le - lowerBound) * (rank - lowerCount)) / (count - lowerCount)
    }
    lowerBound = le
    lowerCount = count
  }
  return lowerBound
}

/** Label values of every series of a metric (e.g. the partitions a consumer-lag gauge reports). */
export async function scrapeLabels(port: number, name: string, label: string): Promise<string[]> {
  const text = await scrapeMetricsText(port)
  const pattern = new RegExp(`^${name}\\{[^}]*${label}="([^"]*)"`)
  return text.split('\n').flatMap((line) => {
    const match = pattern.exec(line)
    return match === null ? [] : [match[1] as string]
  })
}

/** A decoded record with the time (performance.now()) this process received it. */
export interface Received<T> {
  readonly value: T
  readonly receivedMs: number
  readonly bytes: Buffer | null
}

/** Reads one output topic from the beginning with its own group, timestamping each record. */
export class OutputReader<T> {
  readonly received: Array<Received<T>> = []
  private readonly consumer: Consumer

  constructor(private readonly run: Pick<BenchTopics, 'id' | 'config' | 'codec'>, private readonly topic: TopicKey, maxWaitTimeInMs = 10) {
    this.consumer = createKafka(run.config.kafka, silentLogger).consumer({ groupId: `${run.id}-reader-${topic}-${randomUUID().slice(0, 6)}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs })
  }

  async start(): Promise<this> {
    await this.consumer.connect()
    await this.consumer.subscribe({ topic: topicName(this.run.config.kafka, this.topic), fromBeginning: true })
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const receivedMs = performance.now()
        const decoded = await this.run.codec.decode(this.topic, message.value)
        if (!decoded.ok) throw new RiskError('RISK_ERR_DECODE_AVRO', `an output record on ${this.topic} did not decode: ${decoded.message}`, { topic: this.topic })
        this.received.push({ value: decoded.value as T, receivedMs, bytes: message.value })
      },
    })
    return this
  }

  get values(): T[] {
    return this.received.map((entry) => entry.value)
  }

  async waitFor(predicate: (received: ReadonlyArray<Received<T>>) => boolean, timeoutMs: number, what = 'records'): Promise<void> {
    const deadlineMs = Date.now() + timeoutMs
    while (!predicate(this.received)) {
      if (Date.now() > deadlineMs) throw new RiskError('RISK_ERR_SUBSTRATE', `timed out after ${timeoutMs} ms waiting for ${what} on ${this.topic} (have ${this.received.length})`, { topic: this.topic })
      await sleep(50)
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect()
  }
}

/** A command-line option that must be a positive integer, as a number; a clear error otherwise. Example: positiveIntegerOption('repetitions', '3') -> 3 */
export function positiveIntegerOption(name: string, value: string | undefined): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer, not ${value}`)
  return parsed
}

/** The middle value (the mean of the two middle ones for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** Nearest-rank percentile (fraction 0..1); NaN for no values. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] as number
}

/**
 * A distribution-free confidence interval for a quantile of the population a sample came from:
 * the order statistics X(l) <= X(u) of the sorted sample with P(X(l) <= q <= X(u)) >= confidence.
 * The count of observations below the quantile q is binomial(n, fraction) whatever the
 * latencies' distribution, so l and u come from its tails (each at most (1 - confidence) / 2).
 * A side the sample cannot bound is null: 200 requests cannot bound a p99 from above at 95%
 * (even their largest is below the p99 with probability 0.13).
 *
 * Example: quantileInterval(latencies, 0.99) // 600 latencies: { low: X(589), high: X(599) }
 */
export function quantileInterval(values: readonly number[], fraction: number, confidence = 0.95): { low: number | null; high: number | null } {
  if (!(fraction > 0 && fraction < 1) || !(confidence > 0 && confidence < 1)) throw new RangeError(`quantileInterval: fraction ${fraction} and confidence ${confidence} must be in (0, 1)`)
  const n = values.length
  if (n === 0) return { low: null, high: null }
  const sorted = [...values].sort((a, b) => a - b)
  const logFactorial = new Float64Array(n + 1)
  for (let k = 1; k <= n; k += 1) logFactorial[k] = (logFactorial[k - 1] as number) + Math.log(k)
  const logP = Math.log(fraction)
  const logQ = Math.log1p(-fraction)
  // cdf[k] = P(B <= k), B ~ binomial(n, fraction): how many observations fall below the quantile.
  const cdf = new Float64Array(n + 1)
  let sum = 0
  for (let k = 0; k <= n; k += 1) {
    sum += Math.exp((logFactorial[n] as number) - (logFactorial[k] as number) - (logFactorial[n - k] as number) + k * logP + (n - k) * logQ)
    cdf[k] = sum
  }
  const tail = (1 - confidence) / 2
  // X(l) <= q unless fewer than l observations are below q: P(B <= l - 1) <= tail, l as high as that allows.
  let lowRank = 0
  for (let rank = 1; rank <= n && (cdf[rank - 1] as number) <= tail; rank += 1) lowRank = rank
  // X(u) >= q unless u or more are below q: P(B <= u - 1) >= 1 - tail, u as low as that allows.
  let highRank = n + 1
  for (let rank = 1; rank <= n; rank += 1) {
    if ((cdf[rank - 1] as number) >= 1 - tail) {
      highRank = rank
      break
    }
  }
  return { low: lowRank >= 1 ? sorted[lowRank - 1] as number : null, high: highRank <= n ? sorted[highRank - 1] as number : null }
}

/** Bytes under a folder (files only, recursively); 0 when it does not exist. */
export function directoryBytes(folder: string): number {
  if (!fs.existsSync(folder)) return 0
  let total = 0
  for (const entry of fs.readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size
  }
  return total
}

export interface MachineInfo {
  readonly cpus: number
  readonly cpuModel: string
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
  /** 1-minute load average when the bench started: this machine is shared, so figures move with it. */
  readonly loadAverage1m: number
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus()
  return {
    cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version, platform: `${os.type()} ${os.release()}`, loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  }
}

/** One figure of a bench, beside its same-run baseline when it has one. */
export interface BenchFigure {
  readonly label: string
  readonly value: number
  readonly unit: string
  readonly baseline?: { readonly label: string; readonly value: number }
  /** The issue's goal, as text (e.g. '>= 25000'), when there is one. */
  readonly goal?: string
  readonly met?: boolean
}

/** What each bench writes to `${homeDir}/bench/<name>.json`; bench/results.ts renders these. */
export interface BenchResult {
  readonly name: string
  readonly title: string
  readonly dateIso: string
  readonly durationSeconds: number
  readonly machine: MachineInfo
  readonly parameters: Readonly<Record<string, string | number | boolean>>
  readonly figures: readonly BenchFigure[]
  /** Per-repetition raw figures, for whoever wants more than the medians. */
  readonly repetitions: ReadonlyArray<Readonly<Record<string, number>>>
  /** Raw figures of a bench's other phases, by phase (e.g. the latency bench's loaded relay and warm-up). */
  readonly phases?: Readonly<Record<string, ReadonlyArray<Readonly<Record<string, number>>>>>
  readonly notes: readonly string[]
}

export function benchResultsDir(homeDir: string): string {
  return path.join(homeDir, 'bench')
}

export function writeBenchResult(homeDir: string, result: BenchResult): string {
  const folder = benchResultsDir(homeDir)
  fs.mkdirSync(folder, { recursive: true })
  const file = path.join(folder, `${result.name}.json`)
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  return file
}

/** Prints a bench's figures, each beside its baseline. */
export function printFigures(result: BenchResult): void {
  say(`\n${result.title} (${result.durationSeconds.toFixed(0)} s, ${Object.entries(result.parameters).map(([name, value]) => `${name}=${value}`).join(' ')})`)
  for (const figure of result.figures) {
    const baseline = figure.baseline === undefined ? '' : `   baseline ${figure.baseline.label}: ${formatNumber(figure.baseline.value)}`
    const goal = figure.goal === undefined ? '' : `   goal ${figure.goal}: ${figure.met === true ? 'met' : 'not met'}`
    say(`  ${figure.label.padEnd(44)} ${formatNumber(figure.value).padStart(12)} ${figure.unit}${baseline}${goal}`)
  }
  for (const note of result.notes) say(`  note: ${note}`)
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US')
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2)
}

/** Waits until `read()` stops changing for `quietMs`, or `timeoutMs` passes. */
export async function waitUntilQuiet(read: () => Promise<number> | number, quietMs: number, timeoutMs: number): Promise<number> {
  const deadlineMs = Date.now() + timeoutMs
  let last = await read()
  let changedMs = Date.now()
  while (Date.now() - changedMs < quietMs && Date.now() < deadlineMs) {
    await sleep(Math.min(250, quietMs))
    const now = await read()
    if (now !== last) {
      last = now
      changedMs = Date.now()
    }
  }
  return last
}
