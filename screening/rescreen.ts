/**
 * Rescreen every known player after a sanctions or PEP list update (issue 7, docs/screening.md):
 *
 *   npx tsx screening/rescreen.ts [--dry-run] [--wait] [--batch-size 1000] [--wait-timeout-ms 300000]
 *
 * 1. loads the lists in PITBOSS_SCREENING_LISTS_DIR (as the engine does) for their versions;
 * 2. reads every player id with a record on the players topic and the player's latest event time
 *    over the casino input topics from ClickHouse (`events`, written by the sink);
 * 3. produces one RESCREEN instruction per player to risk.screening.v1, keyed by playerId, in
 *    batches, with a progress bar on stderr; the engine's sanctions detectors screen the player's
 *    KYC name again with the lists it has loaded and raise an alert where the result qualifies;
 * 4. prints a summary on stdout: players, instructions produced, list versions.
 * With `--wait` it then waits until the engine group has consumed the instructions and the sink
 * has written the alerts that followed, and prints the sanctions alerts whose evidence is one of
 * this run's instructions. `--dry-run` reads and counts but produces nothing.
 *
 * Idempotent per list version: the eventId is `rescreen:<list fingerprint>:<playerId>` (the
 * fingerprint hashes every list's version) and eventTimeMs the player's latest event time, so a
 * re-run for the same lists produces identical instructions and identical alerts (alert ids are
 * `<detector>@<version>:<eventId>`), which ClickHouse and the case service collapse.
 *
 * Run it once the engine has logged 'sanctions lists reloaded' for the new files: an instruction
 * is screened with whatever lists the engine holds when it processes it.
 *
 * Example:
 *   $ npx tsx screening/rescreen.ts --wait
 *   rescreening [############################] 100% 20000/20000
 *   players 20000, produced 20000 (batches of 1000)
 *   lists fingerprint 4c1d0e9a7b3f2c61: ofac-consolidated sha256:c016b3d6f6dd, ofac-sdn sha256:a1665a897792, ...
 *   sanctions alerts from this rescreen: 58 (sanctions_potential_match 41, sanctions_confirmed_match 17)
 */
import { createHash } from 'node:crypto'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import type { Admin, Producer } from 'kafkajs'
import { JavaCompatiblePartitioner } from '../core/partitioner.js'
import { progressBar } from '../core/progress.js'
import { sleep } from '../core/clock.js'
import { loadConfig, type KafkaConfig, type PitbossConfig } from '../core/config.js'
import { RiskError, isRiskError } from '../core/errors.js'
import { createKafka } from '../core/kafka.js'
import { createLogger, type Logger } from '../core/logger.js'
import { CASINO_TOPIC_KEYS, topicName } from '../core/topics.js'
import { AvroCodec, createHttpRegistryClient } from '../schemas/codec.js'
import type { ScreeningInstruction } from '../schemas/generated/types.js'
import { createClickHouse, type ClickHouse } from '../sinks/clickhouse/client.js'
import { sql } from '../sinks/clickhouse/sql.js'
import { loadListsFromDirectory } from './directory.js'

/** The detectors whose alerts a rescreen can raise. */
export const SANCTIONS_DETECTOR_IDS = ['sanctions_potential_match', 'sanctions_confirmed_match'] as const

/**
 * A short, stable name for a set of list versions: the first 16 hex digits of a SHA-256 over
 * `listId=version` lines in listId order. Example: `listFingerprint({ 'ofac-sdn': 'sha256:a166…' })` -> `'9f0c…'` (16 digits).
 */
export function listFingerprint(listVersions: Readonly<Record<string, string>>): string {
  const lines = Object.keys(listVersions).sort().map((listId) => `${listId}=${listVersions[listId] ?? ''}`)
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)
}

/** `listId version` pairs in listId order, as the instruction's `listVersion` and the summary show them. */
export function describeListVersions(listVersions: Readonly<Record<string, string>>): string {
  return Object.keys(listVersions).sort().map((listId) => `${listId} ${listVersions[listId] ?? ''}`).join(', ')
}

/** Example: `rescreenEventId('9f0c1d2e3b4a5968', 'p-1')` -> `'rescreen:9f0c1d2e3b4a5968:p-1'`. */
export function rescreenEventId(fingerprint: string, playerId: string): string {
  return `rescreen:${fingerprint}:${playerId}`
}

export interface KnownPlayer {
  readonly playerId: string
  /** The latest event time of any of the player's casino input events. */
  readonly latestEventTimeMs: number
}

/**
 * Every player with at least one record on the players topic (this deployment's prefix), with
 * the latest event time over the six casino input topics, in playerId order. One grouped query:
 * a million players is some tens of megabytes in memory.
 */
export async function knownPlayers(clickhouse: ClickHouse, kafka: Pick<KafkaConfig, 'topicPrefix'>): Promise<KnownPlayer[]> {
  const playersTopic = topicName(kafka, 'players')
  const inputTopics = CASINO_TOPIC_KEYS.map((key) => topicName(kafka, key))
  // `has` on an array literal: 18.16 reads `IN [..]` as one array value. No FINAL: copies of a row (a replayed insert) change neither the maximum nor the set of players.
  const rows = await clickhouse.query<{ player_id: string; latest_event_time_ms: string }>(sql`
    SELECT player_id, max(event_time_ms) AS latest_event_time_ms
    FROM events
    WHERE has(${inputTopics}, topic)
    GROUP BY player_id
    HAVING countIf(topic = ${playersTopic}) > 0
    ORDER BY player_id`)
  return rows.map((row) => ({ playerId: row.player_id, latestEventTimeMs: Number(row.latest_event_time_ms) }))
}

/** The RESCREEN instruction for one player and list set. */
export function rescreenInstruction(player: KnownPlayer, fingerprint: string, listVersions: Readonly<Record<string, string>>): ScreeningInstruction {
  return {
    eventId: rescreenEventId(fingerprint, player.playerId),
    playerId: player.playerId,
    eventTimeMs: player.latestEventTimeMs,
    type: 'RESCREEN',
    listVersion: describeListVersions(listVersions),
    listId: null,
    entryId: null,
    officerId: null,
    caseId: null,
    note: `rescreen after a list update (lists ${fingerprint})`,
  }
}

/** Produces instructions to risk.screening.v1; `send` resolves once the batch is acknowledged (acks -1). */
export interface InstructionSink {
  send(instructions: readonly ScreeningInstruction[]): Promise<void>
  close(): Promise<void>
}

export function createKafkaInstructionSink(config: { readonly kafka: KafkaConfig }, codec: AvroCodec, logger: Logger): InstructionSink {
  const topic = topicName(config.kafka, 'screening')
  const producer: Producer = createKafka(config.kafka, logger).producer({ createPartitioner: JavaCompatiblePartitioner, allowAutoTopicCreation: false })
  let connected: Promise<void> | null = null
  return {
    async send(instructions) {
      connected ??= producer.connect()
      await connected
      const messages = instructions.map((instruction) => ({ key: instruction.playerId, value: codec.encode('screening', instruction) }))
      try {
        await producer.send({ topic, acks: -1, messages })
      } catch (error) {
        throw new RiskError('RISK_ERR_KAFKA_PRODUCE', `producing ${messages.length} rescreen instructions to ${topic} failed (${(error as Error).message}); run the rescreen again, it produces the same eventIds`, { topic }, { cause: error })
      }
    },
    async close() {
      if (connected !== null) await connected.catch(() => undefined).then(() => producer.disconnect())
    },
  }
}

export interface RescreenSummary {
  readonly players: number
  readonly produced: number
  readonly fingerprint: string
  readonly listVersions: Readonly<Record<string, string>>
  readonly dryRun: boolean
}

/**
 * Produces one RESCREEN per player in batches (`sink` null = dry run: nothing produced).
 * `onProgress` is called after each batch with the players done so far.
 */
export async function rescreenPlayers(options: {
  readonly players: readonly KnownPlayer[]
  readonly listVersions: Readonly<Record<string, string>>
  readonly sink: InstructionSink | null
  readonly batchSize: number
  readonly onProgress?: (done: number, total: number) => void
}): Promise<RescreenSummary> {
  const { players, listVersions, sink, batchSize } = options
  const fingerprint = listFingerprint(listVersions)
  let produced = 0
  for (let start = 0; start < players.length; start += batchSize) {
    const batch = players.slice(start, start + batchSize).map((player) => rescreenInstruction(player, fingerprint, listVersions))
    if (sink !== null) {
      await sink.send(batch)
      produced += batch.length
    }
    options.onProgress?.(start + batch.length, players.length)
  }
  return { players: players.length, produced, fingerprint, listVersions, dryRun: sink === null }
}

export interface RescreenAlert {
  readonly alertId: string
  readonly playerId: string
  readonly detectorId: string
  readonly severity: string
}

/** Sanctions alerts (ClickHouse `alerts`) whose evidence is an instruction of this fingerprint's rescreen. */
export async function rescreenAlerts(clickhouse: ClickHouse, fingerprint: string): Promise<RescreenAlert[]> {
  if (!/^[0-9a-f]+$/.test(fingerprint)) throw new RiskError('RISK_ERR_REQUEST_INVALID', `a list fingerprint is hex digits, got '${fingerprint}'`)
  // 18.16 has no startsWith: LIKE on a hex prefix, which holds no wildcard.
  const rows = await clickhouse.query<{ alert_id: string; player_id: string; detector_id: string; severity: string }>(sql`
    SELECT alert_id, player_id, detector_id, severity FROM alerts FINAL
    WHERE has(${[...SANCTIONS_DETECTOR_IDS]}, detector_id) AND arrayExists(id -> id LIKE ${`rescreen:${fingerprint}:%`}, evidence_event_ids)
    ORDER BY player_id, detector_id`)
  return rows.map((row) => ({ alertId: row.alert_id, playerId: row.player_id, detectorId: row.detector_id, severity: row.severity }))
}

/** End offsets of every partition of a topic. */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, BigInt(high)]))
}

/** Until `groupId` has committed at least `targets` on `topic`; false when the deadline passed first. */
async function waitForGroup(admin: Admin, groupId: string, topic: string, targets: Map<number, bigint>, deadlineMs: number): Promise<boolean> {
  for (;;) {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
    const behind = [...targets].filter(([partition, target]) => {
      const offset = committed?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1'
      return target > 0n && BigInt(offset) < target
    })
    if (behind.length === 0) return true
    if (Date.now() > deadlineMs) return false
    await sleep(250)
  }
}

/**
 * Waits until the engine's group has consumed risk.screening.v1 up to where it ends now, then
 * until the sink's group has consumed risk.alerts.v1 up to where it ends after that; false when
 * `timeoutMs` passed first (the alerts counted then may be incomplete).
 */
export async function waitForRescreen(config: Pick<PitbossConfig, 'kafka'>, logger: Logger, timeoutMs: number): Promise<boolean> {
  const admin = createKafka(config.kafka, logger).admin()
  await admin.connect()
  try {
    const deadlineMs = Date.now() + timeoutMs
    const screeningTopic = topicName(config.kafka, 'screening')
    if (!(await waitForGroup(admin, config.kafka.groupId, screeningTopic, await endOffsets(admin, screeningTopic), deadlineMs))) return false
    const alertsTopic = topicName(config.kafka, 'alerts')
    return await waitForGroup(admin, `${config.kafka.groupId}-sink-clickhouse`, alertsTopic, await endOffsets(admin, alertsTopic), deadlineMs)
  } finally {
    await admin.disconnect()
  }
}

export interface RescreenCommandOptions {
  readonly dryRun: boolean
  readonly wait: boolean
  readonly batchSize: number
  readonly waitTimeoutMs: number
}

export interface RescreenReport extends RescreenSummary {
  /** With `wait`: the alerts found, and whether the engine and sink caught up in time. */
  readonly alerts: readonly RescreenAlert[] | null
  readonly complete: boolean | null
}

/** The command's work, callable from code: lists, players, instructions, then (with `wait`) the alerts. */
export async function runRescreen(config: PitbossConfig, options: RescreenCommandOptions, logger: Logger, stderr: NodeJS.WriteStream = process.stderr): Promise<RescreenReport> {
  const listsDir = config.screening.listsDir
  if (listsDir === null) throw new RiskError('RISK_ERR_CONFIG_INVALID', 'screening is off (PITBOSS_SCREENING_LISTS_DIR=off): there are no lists to rescreen against; point it at the lists folder the engine uses')
  const lists = await loadListsFromDirectory(listsDir)
  const listVersions = Object.fromEntries(lists.map((list) => [list.version.listId, list.version.version]))
  const clickhouse = createClickHouse(config.clickhouse)
  let sink: InstructionSink | null = null
  try {
    const players = await knownPlayers(clickhouse, config.kafka)
    if (!options.dryRun) {
      const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), config.kafka.topicPrefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
      await codec.registerAll()
      sink = createKafkaInstructionSink(config, codec, logger)
    }
    const bar = progressBar(options.dryRun ? 'rescreening (dry run)' : 'rescreening', players.length, stderr)
    const summary = await rescreenPlayers({ players, listVersions, sink, batchSize: options.batchSize, onProgress: (done) => bar.update(done) })
    bar.done()
    if (!options.wait || options.dryRun) return { ...summary, alerts: null, complete: null }
    const complete = await waitForRescreen(config, logger, options.waitTimeoutMs)
    return { ...summary, alerts: await rescreenAlerts(clickhouse, summary.fingerprint), complete }
  } finally {
    await sink?.close()
    await clickhouse.close()
  }
}

/** The summary lines printed on stdout. */
export function formatRescreenReport(report: RescreenReport, batchSize: number): string {
  const lines = [
    `players ${report.players}, produced ${report.produced}${report.dryRun ? ' (dry run: nothing produced)' : ` (batches of ${batchSize})`}`,
    `lists fingerprint ${report.fingerprint}: ${describeListVersions(report.listVersions)}`,
    `eventIds ${rescreenEventId(report.fingerprint, '<playerId>')}`,
  ]
  if (report.alerts !== null) {
    const byDetector = SANCTIONS_DETECTOR_IDS.map((id) => `${id} ${report.alerts?.filter((alert) => alert.detectorId === id).length ?? 0}`).join(', ')
    lines.push(`sanctions alerts from this rescreen: ${report.alerts.length} (${byDetector})${report.complete === true ? '' : '; the engine or the sink had not caught up when --wait-timeout-ms ran out: the count may be incomplete'}`)
    for (const alert of report.alerts) lines.push(`  ${alert.playerId} ${alert.detectorId} ${alert.severity} ${alert.alertId}`)
  }
  return `${lines.join('\n')}\n`
}

function positiveInteger(name: string, value: string): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) throw new RiskError('RISK_ERR_CONFIG_INVALID', `--${name} must be a whole number >= 1, got '${value}'`)
  return parsed
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: {
    'dry-run': { type: 'boolean', default: false },
    wait: { type: 'boolean', default: false },
    'batch-size': { type: 'string', default: '1000' },
    'wait-timeout-ms': { type: 'string', default: '300000' },
  } })
  const options: RescreenCommandOptions = {
    dryRun: args['dry-run'], wait: args.wait,
    batchSize: positiveInteger('batch-size', args['batch-size']),
    waitTimeoutMs: positiveInteger('wait-timeout-ms', args['wait-timeout-ms']),
  }
  const config = loadConfig()
  // Logs go to stderr with the progress bar; stdout carries only the summary.
  const logger = createLogger('rescreen', config.logLevel)
  const report = await runRescreen(config, options, logger)
  process.stdout.write(formatRescreenReport(report, options.batchSize))
  if (report.complete === false) process.exitCode = 2
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${isRiskError(error) ? error.message : error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exitCode = 1
  })
}
