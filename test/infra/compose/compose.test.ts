/**
 * The production stack: docker-compose.yml validates with docker-compose 1.29, its topic-init
 * script is what the generator makes from the catalog and really creates the topics (run here
 * against a stand-in kafka-topics.sh), its PITBOSS_* variables are the ones core/config.ts
 * reads, and the Prometheus rules, their unit tests and the Grafana dashboard hold together.
 *
 * docker-compose and promtool are external binaries (Debian `docker-compose`, `prometheus`);
 * a check that needs one is skipped, saying so in its name, only when it is not installed.
 */
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { TOPICS } from '../../../core/topics.js'
import type { TopicKey } from '../../../core/topics.js'
import { renderTopicInitScript, TOPIC_INIT_SCRIPT_PATH, topicSettings } from '../../../infra/compose/generate-topic-init.js'
import { nodeArgs } from '../../../infra/node-args.js'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const fromRoot = (relative: string): string => path.join(repoRoot, relative)
const read = (relative: string): string => readFileSync(fromRoot(relative), 'utf8')

function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0
}
const dockerComposeInstalled = hasBinary('docker-compose')
const promtoolInstalled = hasBinary('promtool')
const needsDockerCompose = dockerComposeInstalled ? '' : ' (SKIPPED: docker-compose is not installed; apt-get install -y docker-compose)'
const needsPromtool = promtoolInstalled ? '' : ' (SKIPPED: promtool is not installed; apt-get install -y --no-install-recommends prometheus)'

const temporaryDirectories: string[] = []
function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'pitboss-compose-'))
  temporaryDirectories.push(directory)
  return directory
}
const replicaProcesses: ChildProcess[] = []
afterEach(() => {
  // A test that failed half-way leaves replicas waiting on stdin: end them before removing their folders.
  for (const child of replicaProcesses.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true })
})

/** The process environment without the variables docker-compose.yml interpolates, so only the test's env file speaks. */
function environmentWithoutComposeVariables(): NodeJS.ProcessEnv {
  const composeText = read('docker-compose.yml')
  const interpolated = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1]))
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !interpolated.has(name) && name !== 'COMPOSE_PROJECT_NAME'))
}

function dockerComposeConfig(envFileText: string): { status: number | null; output: string } {
  const envFile = path.join(temporaryDirectory(), 'test.env')
  writeFileSync(envFile, envFileText)
  const result = spawnSync('docker-compose', ['--env-file', envFile, '-f', 'docker-compose.yml', 'config', '-q'], {
    cwd: repoRoot, env: environmentWithoutComposeVariables(), encoding: 'utf8', timeout: 30_000,
  })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describe('docker-compose.yml', () => {
  it.skipIf(!dockerComposeInstalled)(`validates with docker-compose config -q once the secrets are set${needsDockerCompose}`, () => {
    const envFileText = read('infra/compose/example.env')
      .replace(/^CLICKHOUSE_PASSWORD=$/m, 'CLICKHOUSE_PASSWORD=test-only-clickhouse')
      .replace(/^GRAFANA_ADMIN_PASSWORD=$/m, 'GRAFANA_ADMIN_PASSWORD=test-only-grafana')
      .replace(/^API_JWT_ISSUER=$/m, 'API_JWT_ISSUER=https://idp.test-only.example')
    const result = dockerComposeConfig(envFileText)
    expect(result.output).toBe('')
    expect(result.status).toBe(0)
  })

  it.skipIf(!dockerComposeInstalled)(`refuses to start while a password is missing, naming it${needsDockerCompose}`, () => {
    const withoutGrafana = dockerComposeConfig('CLICKHOUSE_PASSWORD=test-only-clickhouse\nAPI_JWT_ISSUER=https://idp.test-only.example\n')
    expect(withoutGrafana.status).not.toBe(0)
    expect(withoutGrafana.output).toContain('set GRAFANA_ADMIN_PASSWORD in .env')
    // example.env as shipped holds no password: copying it unedited must not start the stack.
    const asShipped = dockerComposeConfig(read('infra/compose/example.env'))
    expect(asShipped.status).not.toBe(0)
    expect(asShipped.output).toContain('set CLICKHOUSE_PASSWORD in .env')
  })

  it('uses only PITBOSS_* variables that core/config.ts reads', () => {
    const readByConfig = new Set(read('core/config.ts').match(/PITBOSS_[A-Z0-9_]+/g) ?? [])
    const stackFiles = ['docker-compose.yml', 'Dockerfile', 'infra/compose/claim-instance-id.sh', 'infra/compose/seed-governance.sh']
    const usedByStack = new Set(stackFiles.flatMap((file) => read(file).match(/PITBOSS_[A-Z0-9_]+/g) ?? []))
    const unknown = [...usedByStack].filter((name) => !readByConfig.has(name))
    expect(unknown, 'variables the stack sets but core/config.ts never reads').toEqual([])
    // The stack must actually wire the services, not merely avoid unknown names.
    for (const name of ['PITBOSS_KAFKA_BROKERS', 'PITBOSS_REGISTRY_URL', 'PITBOSS_CLICKHOUSE_URL', 'PITBOSS_CLICKHOUSE_PASSWORD', 'PITBOSS_STATE_DIR', 'PITBOSS_INSTANCE_ID', 'PITBOSS_API_HOST', 'PITBOSS_API_PORT', 'PITBOSS_METRICS_HOST', 'PITBOSS_METRICS_PORT']) {
      expect(usedByStack.has(name), name).toBe(true)
    }
  })

  it('pins every third-party image to a version and writes no secret', () => {
    const composeText = read('docker-compose.yml')
    const images = [...composeText.matchAll(/^\s+image:\s*(\S+)/gm)].map((match) => match[1] ?? '')
    const thirdParty = images.filter((image) => !image.startsWith('pitboss:'))
    expect(thirdParty.map((image) => image.split(':')[0]).sort()).toEqual(
      ['apache/kafka', 'apache/kafka', 'clickhouse/clickhouse-server', 'confluentinc/cp-schema-registry', 'grafana/grafana', 'prom/prometheus'])
    for (const image of thirdParty) expect(image, image).toMatch(/:v?\d+\.\d+\.\d+/)
    // Every password is interpolated with ${VAR:?message}; none is written as a literal.
    for (const line of composeText.split('\n').filter((text) => /PASSWORD:/.test(text))) {
      expect(line.trim(), line).toMatch(/PASSWORD: \$\{[A-Z_]+:\?[^}]+\}$/)
    }
  })

  it('starts the engine, graph worker, sink and api from the root Dockerfile with the commands of the design', () => {
    const composeText = read('docker-compose.yml')
    // With the node flags of every other start (infra/node-args.ts); V8 refuses some of them in
    // NODE_OPTIONS, so they are in the commands.
    const args = (entry: string): string => nodeArgs(entry).map((arg) => JSON.stringify(arg)).join(', ')
    for (const entry of ['sinks/main.ts', 'pipelines/graph-main.ts']) {
      expect(composeText).toContain(`command: ["node", ${args(entry)}]`)
    }
    // the engine and the api first seed the shared rule-set and model volume
    for (const entry of ['pipelines/main.ts', 'api/main.ts']) {
      expect(composeText).toContain(`command: ["sh", "infra/compose/seed-governance.sh", "node", ${args(entry)}]`)
    }
    expect(composeText).not.toContain('NODE_OPTIONS')
    expect(composeText.match(/condition: service_completed_successfully/g)).toHaveLength(4)
    const dockerfile = read('Dockerfile')
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim\b/m)
    expect(dockerfile).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev')
    // the librdkafka output producer is built (against the image's libssl and zlib) and loads
    expect(dockerfile).toContain('CKJS_LINKING=dynamic ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev')
    expect(dockerfile).toContain(`node -e "require('@confluentinc/kafka-javascript')"`)
    expect(dockerfile).toMatch(/^USER node$/m)
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m)
    // an image started without compose runs the api with the same flags
    expect(dockerfile).toContain(`\nCMD ["node", ${args('api/main.ts')}]\n`)
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim())
    for (const entry of ['node_modules', '.pitboss', '.git', '.env']) expect(ignored, entry).toContain(entry)
  })
})

/** Stands in for Kafka's kafka-topics.sh: topics live in $FAKE_KAFKA_STATE as "NAME PARTITIONS CONFIGS" lines; --describe prints Kafka's format. */
const FAKE_KAFKA_TOPICS = `#!/bin/sh
set -eu
state="$FAKE_KAFKA_STATE"
touch "$state"
mode=none topic= partitions= configs= if_not_exists=no
while [ $# -gt 0 ]; do
  case "$1" in
    --create) mode=create ;;
    --describe) mode=describe ;;
    --if-not-exists) if_not_exists=yes ;;
    --exclude-internal) ;;
    --topic) topic="$2"; shift ;;
    --partitions) partitions="$2"; shift ;;
    --config) configs="\${configs:+$configs,}$2"; shift ;;
    --bootstrap-server|--replication-factor) shift ;;
    *) echo "fake kafka-topics.sh: unexpected argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$mode" in
  create)
    if awk -v topic="$topic" '$1 == topic { found = 1 } END { exit found ? 0 : 1 }' "$state"; then
      [ "$if_not_exists" = yes ] && exit 0
      echo "Topic '$topic' already exists." >&2
      exit 1
    fi
    echo "$topic $partitions $configs" >> "$state"
    echo "Created topic $topic." ;;
  describe)
    awk '{ printf "Topic: %s\\tTopicId: fake\\tPartitionCount: %s\\tReplicationFactor: 1\\tConfigs: %s\\n", $1, $2, $3
           for (p = 0; p < $2; p++) printf "\\tTopic: %s\\tPartition: %d\\tLeader: 1\\tReplicas: 1\\tIsr: 1\\n", $1, p }' "$state" ;;
  *) echo "fake kafka-topics.sh: no --create or --describe" >&2; exit 2 ;;
esac
`

interface FakeKafka { readonly directory: string; readonly stateFile: string }

function fakeKafka(existingTopics = ''): FakeKafka {
  const directory = temporaryDirectory()
  const kafkaTopics = path.join(directory, 'kafka-topics.sh')
  writeFileSync(kafkaTopics, FAKE_KAFKA_TOPICS)
  chmodSync(kafkaTopics, 0o755)
  const stateFile = path.join(directory, 'topics.state')
  writeFileSync(stateFile, existingTopics)
  return { directory, stateFile }
}

function runTopicInit(kafka: FakeKafka, topicPrefix = ''): { status: number | null; stdout: string; stderr: string; topics: Map<string, { partitions: number; configs: string[] }> } {
  const result = spawnSync('sh', [TOPIC_INIT_SCRIPT_PATH], {
    env: { PATH: process.env.PATH, KAFKA_BIN_DIR: kafka.directory, FAKE_KAFKA_STATE: kafka.stateFile, KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092', PITBOSS_TOPIC_PREFIX: topicPrefix },
    encoding: 'utf8', timeout: 20_000,
  })
  const topics = new Map<string, { partitions: number; configs: string[] }>()
  for (const line of readFileSync(kafka.stateFile, 'utf8').split('\n').filter(Boolean)) {
    const [name = '', partitions = '0', configs = ''] = line.split(' ')
    expect(topics.has(name), `${name} created twice`).toBe(false)
    topics.set(name, { partitions: Number(partitions), configs: configs.split(',').filter(Boolean) })
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, topics }
}

const catalogKeys = Object.keys(TOPICS) as TopicKey[]

describe('infra/compose/create-topics.sh', () => {
  it('is what the generator makes from the catalog now', () => {
    const onDisk = readFileSync(TOPIC_INIT_SCRIPT_PATH, 'utf8')
    expect(onDisk === renderTopicInitScript(), 'create-topics.sh is out of date: run npx tsx infra/compose/generate-topic-init.ts').toBe(true)
  })

  it('creates every catalog topic with its partition count, and keeps replayed topics forever', () => {
    const script = readFileSync(TOPIC_INIT_SCRIPT_PATH, 'utf8')
    for (const key of catalogKeys) {
      const { name, partitions, cleanupPolicy, role } = TOPICS[key]
      const line = script.split('\n').find((text) => text.startsWith(`create_topic ${name} `))
      expect(line, name).toBeDefined()
      expect(line).toContain(`create_topic ${name} ${partitions} cleanup.policy=${cleanupPolicy}`)
      if (role === 'input') expect(line, name).toContain('retention.ms=-1')
      expect(script, name).toContain(`check_topic ${name} ${partitions}`)
    }
    expect(script).toContain('--if-not-exists')
    expect(script).toMatch(/replaying the partition's input topics from the beginning/)
  })

  it('runs against kafka-topics.sh: creates all topics, then is a no-op on a second run', () => {
    const kafka = fakeKafka()
    const first = runTopicInit(kafka)
    expect(first.stderr).toBe('')
    expect(first.status).toBe(0)
    expect(first.stdout).toContain(`all ${catalogKeys.length} catalog topics are in place on kafka:9092`)
    expect([...first.topics.keys()].sort()).toEqual(catalogKeys.map((key) => TOPICS[key].name).sort())
    for (const key of catalogKeys) {
      const created = first.topics.get(TOPICS[key].name)
      expect(created?.partitions, key).toBe(TOPICS[key].partitions)
      expect(created?.configs, key).toEqual(topicSettings(TOPICS[key]).configs)
    }
    const second = runTopicInit(kafka)
    expect(second.status).toBe(0)
    expect(second.topics.size).toBe(catalogKeys.length)
  })

  it('applies the deployment topic prefix the engine uses', () => {
    const { status, topics } = runTopicInit(fakeKafka(), 't7.')
    expect(status).toBe(0)
    expect(topics.get('t7.casino.deposits.v1')?.partitions).toBe(TOPICS.deposits.partitions)
    expect(topics.has('casino.deposits.v1')).toBe(false)
  })

  it('fails, naming the topic, when an existing topic breaks co-partitioning or would expire input', () => {
    const kafka = fakeKafka('casino.bets.v1 4 \nrisk.decisions.v1 8 cleanup.policy=compact\n')
    const { status, stderr, topics } = runTopicInit(kafka)
    expect(status).toBe(1)
    expect(stderr).toContain(`casino.bets.v1 has 4 partitions, the catalog (core/topics.ts) says ${TOPICS.bets.partitions}`)
    expect(stderr).toContain('casino.bets.v1 lacks retention.ms=-1')
    expect(stderr).not.toContain('risk.decisions.v1') // existing and correct
    expect(topics.size).toBe(catalogKeys.length) // the missing topics were still created
  })

  it.skipIf(!hasBinary('shellcheck'))(`create-topics.sh and claim-instance-id.sh pass shellcheck${hasBinary('shellcheck') ? '' : ' (SKIPPED: shellcheck is not installed)'}`, () => {
    const result = spawnSync('shellcheck', ['-s', 'sh', TOPIC_INIT_SCRIPT_PATH, fromRoot('infra/compose/claim-instance-id.sh')], { encoding: 'utf8' })
    expect(result.stdout).toBe('')
    expect(result.status).toBe(0)
  })
})

interface Replica { readonly instanceId: string; readonly stateDir: string; stop(): Promise<void> }

/** Starts claim-instance-id.sh as a compose replica would, with a command that reports its identity and runs until stopped. */
async function startReplica(stateRoot: string, extraEnvironment: Record<string, string> = {}): Promise<Replica> {
  const child = spawn('sh', [fromRoot('infra/compose/claim-instance-id.sh'), 'engine', stateRoot, 'sh', '-c', 'echo "$PITBOSS_INSTANCE_ID $PITBOSS_STATE_DIR"; read -r _'], {
    env: { PATH: process.env.PATH, ...extraEnvironment }, stdio: ['pipe', 'pipe', 'pipe'],
  })
  replicaProcesses.push(child)
  let output = ''
  child.stdout.setEncoding('utf8')
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk
      if (output.includes('\n')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`claim-instance-id.sh exited with ${code} before running the command`)))
  })
  const [instanceId = '', stateDir = ''] = output.trim().split(' ')
  return {
    instanceId, stateDir,
    stop: async () => {
      const exited = once(child, 'exit')
      child.stdin.end() // `read` returns, the command exits, the kernel releases the slot lock
      await exited
    },
  }
}

describe('infra/compose/claim-instance-id.sh', () => {
  it('gives live replicas distinct stable ids and hands a released slot to the next replica', async () => {
    const stateRoot = temporaryDirectory()
    const first = await startReplica(stateRoot)
    const second = await startReplica(stateRoot)
    expect([first.instanceId, second.instanceId]).toEqual(['engine-1', 'engine-2'])
    expect(second.stateDir).toBe(path.join(stateRoot, 'engine-2'))
    await first.stop() // a re-created container: the old one stops, the new one starts
    const replacement = await startReplica(stateRoot)
    expect(replacement.instanceId).toBe('engine-1')
    expect(replacement.stateDir).toBe(path.join(stateRoot, 'engine-1'))
    await Promise.all([second.stop(), replacement.stop()])
  })

  it('keeps an instance id set by the operator', async () => {
    const stateRoot = temporaryDirectory()
    const replica = await startReplica(stateRoot, { PITBOSS_INSTANCE_ID: 'engine-blue' })
    expect(replica.instanceId).toBe('engine-blue')
    expect(replica.stateDir).toBe(path.join(stateRoot, 'engine-blue'))
    await replica.stop()
  })
})

// Issue 8, item 5: every metric it lists has a panel.
const METRICS = [
  'pitboss_events_processed_total', 'pitboss_dead_letters_total', 'pitboss_decision_latency_seconds', 'pitboss_decisions_total', 'pitboss_late_events_total', 'pitboss_consumer_lag',
  'pitboss_detector_hits_total', 'pitboss_model_inference_seconds', 'pitboss_sink_buffered_rows', 'pitboss_report_generation_seconds', 'pitboss_api_response_seconds', 'pitboss_api_responses_total',
]
/** Metric files whose `name: 'pitboss_…'` declarations the dashboard and the alerts may read. */
const METRIC_SOURCES = ['pipelines/metrics.ts', 'pipelines/graph-worker.ts', 'sinks/main.ts', 'api/app.ts']

interface DashboardPanel { title: string; datasource?: { uid?: string }; targets?: Array<{ expr: string; datasource?: { uid?: string } }> }

describe('Prometheus and Grafana', () => {
  it.skipIf(!promtoolInstalled)(`prometheus.yml and alerts.yml pass promtool check config${needsPromtool}`, () => {
    const result = spawnSync('promtool', ['check', 'config', fromRoot('infra/prometheus/prometheus.yml')], { encoding: 'utf8' })
    expect(result.stdout + result.stderr).toContain('SUCCESS')
    expect(result.status).toBe(0)
  })

  it.skipIf(!promtoolInstalled)(`alert rules pass their unit tests (alerts.test.yml)${needsPromtool}`, () => {
    const result = spawnSync('promtool', ['test', 'rules', fromRoot('infra/prometheus/alerts.test.yml')], { encoding: 'utf8' })
    expect(result.stdout + result.stderr).toContain('SUCCESS')
    expect(result.status).toBe(0)
  })

  it('alerts cover dead letters, decision latency and consumer lag; prometheus scrapes engine, sink and api', () => {
    const alerts = read('infra/prometheus/alerts.yml')
    for (const name of ['PitbossDeadLetterRateHigh', 'PitbossErrorRateHigh', 'PitbossDecisionLatencyHigh', 'PitbossInstantPayoutSlow', 'PitbossConsumerLagGrowing']) expect(alerts).toContain(`alert: ${name}`)
    for (const metric of ['pitboss_dead_letters_total', 'pitboss_events_processed_total', 'pitboss_decision_latency_seconds_bucket', 'pitboss_consumer_lag']) expect(alerts).toContain(metric)
    const prometheus = read('infra/prometheus/prometheus.yml')
    for (const job of ['engine', 'sink', 'api']) expect(prometheus).toContain(`job_name: ${job}`)
  })

  it('the dashboard has a panel for each pitboss metric, on the provisioned datasource', () => {
    const dashboard = JSON.parse(read('infra/grafana/dashboards/pitboss.json')) as { uid: string; panels: DashboardPanel[] }
    const datasourceUid = /uid: (\S+)/.exec(read('infra/grafana/provisioning/datasources/prometheus.yml'))?.[1]
    expect(datasourceUid).toBe('pitboss-prometheus')
    const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr))
    for (const metric of METRICS) expect(expressions.some((expr) => expr.includes(metric)), metric).toBe(true)
    for (const panel of dashboard.panels) {
      expect(panel.datasource?.uid, panel.title).toBe(datasourceUid)
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(datasourceUid)
    }
    for (const title of ['Events/s by topic', 'Decisions by outcome', 'Decision latency p50 / p99', 'Dead letters by reason', 'Late events', 'Consumer lag by partition']) {
      expect(dashboard.panels.map((panel) => panel.title)).toContain(title)
    }
  })

  it('the dashboard and the alerts read only metrics the code declares', () => {
    const declared = new Set(METRIC_SOURCES.flatMap((file) => [...read(file).matchAll(/name: '(pitboss_\w+)'/g)].map((match) => match[1])))
    const used = new Set([...`${read('infra/grafana/dashboards/pitboss.json')}\n${read('infra/prometheus/alerts.yml')}`.matchAll(/pitboss_\w+/g)]
      .map((match) => match[0].replace(/_(bucket|count|sum)$/, '')))
    expect([...used].filter((name) => !declared.has(name))).toEqual([])
  })

  it.skipIf(!promtoolInstalled)(`every dashboard query is valid PromQL${needsPromtool}`, () => {
    const dashboard = JSON.parse(read('infra/grafana/dashboards/pitboss.json')) as { panels: DashboardPanel[] }
    const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr))
    // promtool parses the queries as recording rules; Grafana's $__rate_interval becomes a fixed range.
    const rules = expressions.map((expr, index) => `      - record: dashboard_query_${index}\n        expr: ${JSON.stringify(expr.replaceAll('$__rate_interval', '1m'))}`)
    const rulesFile = path.join(temporaryDirectory(), 'dashboard-queries.yml')
    writeFileSync(rulesFile, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`)
    const result = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' })
    expect(result.stdout + result.stderr).toContain(`SUCCESS: ${expressions.length} rules found`)
    expect(result.status).toBe(0)
  })
})
