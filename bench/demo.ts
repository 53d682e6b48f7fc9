/**
 * `npm run demo`: the local substrate, the engine, the ClickHouse sink and the API as separate
 * processes (as in production), a simulated casino day (bench/simulator: ordinary players plus
 * planted, labelled typologies) produced through the registry, and a summary of what happened:
 * decisions, alerts, which planted typologies were caught, and whether a broker-less replay of
 * the recorded events gives the same decisions. Leaves everything running until Ctrl-C, or
 * exits with `--once`.
 *
 * Options: --once, --players N (default 2000), --days N (default 1), --seed N (default 7).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { Partitioners } from 'kafkajs'
import { sleep } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import { silentLogger } from '../core/logger.js'
import { INPUT_PARTITIONS, topicCatalog, topicName, type TopicKey } from '../core/topics.js'
import { BrokerControl } from '../infra/broker/launcher.js'
import { startSubstrate, substrateEnv } from '../infra/substrate.js'
import { createClickHouse } from '../sinks/clickhouse/client.js'
import { migrate } from '../sinks/clickhouse/migrate.js'
import { sql } from '../sinks/clickhouse/sql.js'
import { AvroCodec, createHttpRegistryClient } from '../schemas/codec.js'
import { loadScreenFunction } from '../screening/screen-function.js'
import type { Alert, DeadLetter, Decision } from '../schemas/generated/types.js'
import { mintAccessToken } from '../api/tokens.js'
import { loadEngineModels, replayEvents, scoreTypologies } from './replay.js'
import { writeJsonLines } from './simulator/json-lines.js'
import { loadSanctionedName } from './simulator/sanctions.js'
import { simulate } from './simulator/simulate.js'
import { nodeArgs } from '../infra/node-args.js'

const { values: args } = parseArgs({ options: { once: { type: 'boolean', default: false }, players: { type: 'string', default: '2000' }, days: { type: 'string', default: '1' }, seed: { type: 'string', default: '7' } } })
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const say = (line: string): void => void process.stdout.write(`${line}\n`)
const percentile = (values: readonly number[], fraction: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number)
}

/** The engine, sink and API processes, stopped on any exit of the demo (success, failure or Ctrl-C). */
const spawned: ChildProcess[] = []

async function main(): Promise<void> {
  const base = loadConfig()
  const runId = `demo-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`
  const runDir = path.join(base.homeDir, 'demo', runId)
  const demoSecret = randomBytes(32).toString('base64url')
  fs.mkdirSync(runDir, { recursive: true })
  say(`pitboss demo ${runId}`)
  say('starting the local substrate (broker, schema registry, ClickHouse)...')
  const substrate = await startSubstrate({ homeDir: base.homeDir })

  // Each run gets its own topics, group, state and ClickHouse database, so reruns start clean.
  const prefix = `${runId}.`
  const control = new BrokerControl(substrate.brokerControlPort)
  for (const topic of topicCatalog(prefix)) await control.createTopic(topic.name, topic.partitions)
  await control.close()
  const env: Record<string, string> = {
    ...substrateEnv(substrate),
    PITBOSS_TOPIC_PREFIX: prefix,
    PITBOSS_KAFKA_GROUP_ID: `${runId}-engine`,
    PITBOSS_STATE_DIR: path.join(runDir, 'state'),
    PITBOSS_CLICKHOUSE_DATABASE: 'pitboss_demo',
    PITBOSS_KAFKA_SESSION_TIMEOUT_MS: '6000',
    PITBOSS_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    PITBOSS_API_PORT: process.env.PITBOSS_API_PORT ?? '8080',
    PITBOSS_METRICS_PORT: '0',
    PITBOSS_CASES_DIR: path.join(runDir, 'cases'),
    PITBOSS_API_AUDIT_FILE: path.join(runDir, 'api-audit.jsonl'),
    PITBOSS_RULE_SET_VERSIONS_DIR: path.join(runDir, 'rule-sets'),
    // A per-run signing secret for the demo's tokens; production verifies the identity provider's keys.
    PITBOSS_API_JWT_HS256_SECRET: demoSecret,
  }
  const config = loadConfig({ ...process.env, ...env })
  const clickhouse = createClickHouse(config.clickhouse)
  await clickhouse.withDatabase('system').command(sql`DROP DATABASE IF EXISTS pitboss_demo`)
  await migrate(clickhouse, 'pitboss_demo')

  const children = spawned
  const launch = (name: string, entry: string): void => {
    const log = fs.openSync(path.join(runDir, `${name}.log`), 'a')
    const child = spawn(process.execPath, nodeArgs(entry), { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', log, log] })
    child.once('exit', (code, signal) => {
      if (!stopping) say(`${name} exited (${signal ?? code}); its log: ${path.join(runDir, `${name}.log`)}`)
    })
    children.push(child)
  }
  let stopping = false
  launch('engine', 'pipelines/main.ts')
  launch('graph', 'pipelines/graph-main.ts')
  launch('sink', 'sinks/main.ts')
  launch('api', 'api/main.ts') // also files alerts into cases: it owns the case store

  const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), prefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
  await codec.registerAll()
  const simulation = simulate({ seed: Number(args.seed), players: Number(args.players), days: Number(args.days), sanctionedName: loadSanctionedName(config.referenceDataDir, Number(args.seed)) })
  const fixture = simulation.events
  const eventsFile = path.join(runDir, 'events.jsonl')
  await writeJsonLines(eventsFile, fixture)
  await writeJsonLines(path.join(runDir, 'labels.jsonl'), simulation.labels)
  const counts = new Map<string, number>()
  for (const event of fixture) counts.set(event.topic, (counts.get(event.topic) ?? 0) + 1)
  // One decision per withdrawal request (a cancellation is an event, not a new withdrawal).
  const expectedDecisions = new Set(fixture.flatMap((event) => (event.topic === 'withdrawals' && event.value.type === 'REQUESTED' ? [event.value.withdrawalId] : []))).size

  // Readers of the outputs, from the beginning of this run's topics.
  const kafka = createKafka(config.kafka, silentLogger)
  const seen = { decisions: [] as Decision[], alerts: [] as Alert[], deadLetters: [] as DeadLetter[], latencyMs: [] as number[] }
  const reader = kafka.consumer({ groupId: `${runId}-demo-reader`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 })
  await reader.connect()
  const readTopics: TopicKey[] = ['decisions', 'alerts', 'deadLetters']
  await reader.subscribe({ topics: readTopics.map((key) => topicName(config.kafka, key)), fromBeginning: true })
  const keyOf = new Map(readTopics.map((key) => [topicName(config.kafka, key), key]))
  await reader.run({
    eachMessage: async ({ topic, message }) => {
      const key = keyOf.get(topic) as TopicKey
      const decoded = await codec.decode(key, message.value)
      if (!decoded.ok) return
      if (key === 'decisions') {
        seen.decisions.push(decoded.value as Decision)
        seen.latencyMs.push(Number(message.headers?.['pitboss-processing-ms']?.toString() ?? 'NaN'))
      } else if (key === 'alerts') seen.alerts.push(decoded.value as Alert)
      else seen.deadLetters.push(decoded.value as DeadLetter)
    },
  })

  say(`producing ${fixture.length} simulated events (${args.players} ordinary players and ${simulation.labels.length} planted typology instances, ${args.days} day(s), seed ${args.seed}), plus 3 malformed records...`)
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const startedMs = Date.now()
  for (let start = 0; start < fixture.length; start += 1000) {
    const chunk = fixture.slice(start, start + 1000)
    const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>()
    for (const event of chunk) {
      const name = topicName(config.kafka, event.topic)
      byTopic.set(name, [...(byTopic.get(name) ?? []), { key: event.value.playerId, value: codec.encode(event.topic, event.value) }])
    }
    await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
  }
  await producer.send({
    topic: topicName(config.kafka, 'withdrawals'),
    messages: [
      { key: 'player-00000', value: Buffer.from('{"not":"avro"}') },
      { key: 'player-00000', value: Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2, 3]) },
      { key: 'somebody-else', value: codec.encode('withdrawals', fixture.find((event) => event.topic === 'withdrawals')?.value ?? {}) },
    ],
  })
  await producer.disconnect()

  const deadlineMs = Date.now() + 5 * 60_000
  while (new Set(seen.decisions.map((decision) => decision.decisionId)).size < expectedDecisions || seen.deadLetters.length < 3) {
    if (Date.now() > deadlineMs) throw new Error(`the engine decided ${seen.decisions.length} of ${expectedDecisions} withdrawals in 5 minutes; see ${runDir}/engine.log`)
    await sleep(100)
  }
  const elapsedMs = Date.now() - startedMs
  let rows = 0
  while (rows < expectedDecisions && Date.now() < deadlineMs) {
    await sleep(250)
    rows = Number((await clickhouse.query<{ rows: string }>(sql`SELECT count() AS rows FROM decisions FINAL`))[0]?.rows ?? 0)
  }
  const byOutcome = await clickhouse.query<{ outcome: string; decisions: string; p50: number; p99: number }>(
    sql`SELECT outcome, count() AS decisions, quantile(0.5)(latency_ms) AS p50, quantile(0.99)(latency_ms) AS p99 FROM decisions FINAL GROUP BY outcome ORDER BY outcome`)
  const alertsByDetector = new Map<string, number>()
  for (const alert of seen.alerts) alertsByDetector.set(`${alert.detectorId} (${alert.severity})`, (alertsByDetector.get(`${alert.detectorId} (${alert.severity})`) ?? 0) + 1)
  const deadByReason = new Map<string, number>()
  for (const letter of seen.deadLetters) deadByReason.set(letter.reason, (deadByReason.get(letter.reason) ?? 0) + 1)

  say('')
  say(`events in      ${[...counts].map(([topic, count]) => `${topic} ${count}`).join(', ')} (${fixture.length} total)`)
  say(`decisions      ${seen.decisions.length} emitted for ${expectedDecisions} withdrawal requests in ${(elapsedMs / 1000).toFixed(1)} s (from first produce, including group join)`)
  for (const row of byOutcome) say(`  ${row.outcome.padEnd(8)} ${String(row.decisions).padStart(6)}   latency p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms`)
  say(`latency        all decisions: p50 ${percentile(seen.latencyMs, 0.5).toFixed(1)} ms, p99 ${percentile(seen.latencyMs, 0.99).toFixed(1)} ms, record arrival in the engine to decision acknowledged,`)
  say('               with the whole fixture produced at once (mostly time queued behind earlier batches; not a steady-rate latency)')
  say(`alerts         ${seen.alerts.length}: ${[...alertsByDetector].map(([name, count]) => `${name} ${count}`).join(', ') || 'none'}`)
  say(`dead letters   ${seen.deadLetters.length}: ${[...deadByReason].map(([reason, count]) => `${reason} ${count}`).join(', ')}`)
  say(`clickhouse     ${rows} decision rows in pitboss_demo.decisions at ${config.clickhouse.url}`)
  const example = seen.decisions.find((decision) => decision.outcome !== 'APPROVE')
  if (example !== undefined) say(`example        ${example.decisionId} ${example.outcome}: ${example.reasons.map((reason) => reason.detail).join('; ')} (rule set ${example.ruleSetVersion})`)
  say('typologies     planted instances caught by their detectors (alerts naming a planted player inside its window):')
  for (const score of scoreTypologies(seen.alerts, simulation.labels)) {
    const detectors = score.detectors.length === 0 ? 'no detector yet' : score.detectors.join(', ')
    say(`  ${score.typology.padEnd(20)} ${String(score.instancesCaught).padStart(2)} of ${String(score.instances).padEnd(2)} (${detectors})`)
  }
  // Alerts into cases: one incident per player, typology and window, incidents joined into one case per player or cluster.
  let incidents: Array<{ detector: string; incidents: string; cases: string }> = []
  for (let previous = -1, settledMs = Date.now() + 60_000; Date.now() < settledMs;) {
    incidents = await clickhouse.query<{ detector: string; incidents: string; cases: string }>(
      sql`SELECT visitParamExtractString(details, 'detectorId') AS detector, count() AS incidents, uniqExact(case_id) AS cases FROM case_events FINAL WHERE type = 'INCIDENT_OPENED' GROUP BY detector ORDER BY detector`)
    const total = incidents.reduce((sum, row) => sum + Number(row.incidents), 0)
    if (total > 0 && total === previous) break
    previous = total
    await sleep(2000)
  }
  const [caseTotals] = await clickhouse.query<{ cases: string }>(sql`SELECT uniqExact(case_id) AS cases FROM case_events FINAL WHERE type = 'CASE_OPENED'`)
  const incidentTotal = incidents.reduce((sum, row) => sum + Number(row.incidents), 0)
  say(`cases          ${caseTotals?.cases ?? 0} open cases from ${incidentTotal} incidents (${seen.alerts.length} alerts de-duplicated), by typology:`)
  say(`               ${incidents.map((row) => `${row.detector} ${row.incidents} incidents in ${row.cases} cases`).join(', ') || 'none'}`)
  // The same events through the same pipeline code without a broker: same decisions?
  const screening = await loadScreenFunction(config.screening.listsDir)
  const models = await loadEngineModels(config)
  const replay = await replayEvents(fixture, { partitions: INPUT_PARTITIONS, screen: screening?.screen ?? null, scorer: models })
  await models?.close()
  const live = new Map(seen.decisions.map((decision) => [decision.decisionId, JSON.stringify({ ...decision, source: { ...decision.source, topic: decision.source.topic.slice(prefix.length) } })]))
  const identical = replay.decisions.filter((decision) => live.get(decision.decisionId) === JSON.stringify(decision)).length
  // The live engine also joined the graph worker's cluster table, whose records arrive on the
  // worker's wall-clock schedule; the replay has no graph. Count the decisions that differ only there.
  const withoutCluster = (text: string | undefined): string => (text === undefined ? '' : JSON.stringify({ ...(JSON.parse(text) as Decision), clusterId: null }))
  const clusterOnly = replay.decisions.filter((decision) => live.get(decision.decisionId) !== JSON.stringify(decision) && withoutCluster(live.get(decision.decisionId)) === withoutCluster(JSON.stringify(decision))).length
  const different = replay.decisions.length - identical - clusterOnly
  say(`replay         ${identical} of ${replay.decisions.length} decisions byte-identical to the live run's when ${path.basename(eventsFile)} is replayed without a broker (npm run replay -- --events ${eventsFile});`)
  say(`               ${clusterOnly} differ only in clusterId (the live run joined the graph worker's cluster table, the replay runs no graph), ${different} differ otherwise`)
  say(`logs           ${runDir}`)

  const stop = async (): Promise<void> => {
    stopping = true
    await reader.disconnect()
    await clickhouse.close()
    for (const child of children) child.kill('SIGTERM')
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))))
  }
  if (args.once) {
    await stop()
    say('done (--once). The substrate keeps running; `npm run infra:down` stops it.')
    return
  }
  const officerToken = mintAccessToken({ subject: 'demo-officer', roles: ['aml_officer', 'compliance_officer'], issuer: config.api.jwt.issuer, audience: config.api.jwt.audience, nowMs: Date.now(), lifetimeMs: 8 * 60 * 60 * 1000, key: { algorithm: 'HS256', secret: demoSecret } })
  fs.writeFileSync(path.join(runDir, 'officer.token'), `${officerToken}\n`, { mode: 0o600 })
  say(`\nAML console at http://${config.api.host}:${config.api.port}/console/ — sign in with the officer token in ${path.join(runDir, 'officer.token')}`)
  say(`API at http://${config.api.host}:${config.api.port} (/openapi.json, /health, /metrics). Ctrl-C stops the engine, graph worker, sink and API.`)
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()))
  await stop()
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`)
  for (const child of spawned) if (child.exitCode === null) child.kill('SIGTERM')
  // Give them a moment to checkpoint; the Kafka reader would keep this process alive otherwise.
  setTimeout(() => process.exit(1), 3000)
})
