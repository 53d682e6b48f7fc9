/**
 * Configuration: the environment is read once, here, into a frozen, validated, typed object
 * that is passed down. Nothing else reads `process.env`.
 *
 * Every variable is optional; defaults are the values a developer machine runs with.
 * A malformed value fails at start with RISK_ERR_CONFIG_INVALID naming the variable.
 *
 * Example: `loadConfig({ PITBOSS_KAFKA_BROKERS: '127.0.0.1:9092', PITBOSS_TOPIC_PREFIX: 't1.' })`
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { RiskError } from './errors.js'

/** What produces the engine's outputs (core/output-producer.ts, PITBOSS_KAFKA_OUTPUT_PRODUCER). */
export type OutputProducerChoice = 'auto' | 'librdkafka' | 'kafkajs'
export const OUTPUT_PRODUCER_CHOICES: readonly OutputProducerChoice[] = ['auto', 'librdkafka', 'kafkajs']

export interface KafkaConfig {
  readonly brokers: readonly string[]
  readonly clientId: string
  /** Consumer group of the engine's partition tasks. */
  readonly groupId: string
  /** Prepended to every catalog topic name; lets tests and tenants share a broker. */
  readonly topicPrefix: string
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly rebalanceTimeoutMs: number
  /** How long a fetch waits for data on an idle partition. */
  readonly maxWaitTimeMs: number
  /** librdkafka where it is installed ('auto'), or as configured. */
  readonly outputProducer: OutputProducerChoice
  /**
   * How often librdkafka reports its own producer statistics (queue wait, request round trip),
   * exported as pitboss_output_producer_* metrics; 0 turns them off. kafkajs has none.
   */
  readonly outputStatisticsIntervalMs: number
}

export interface PipelineConfig {
  /** Records larger than this go to the dead-letter topic. */
  readonly maxPayloadBytes: number
  /** An event more than this far ahead of its record's Kafka timestamp (when it was written) is refused as far-future. */
  readonly maxFutureSkewMs: number
  /** Records buffered per partition task before its topic-partitions are paused. */
  readonly maxBufferedRecords: number
  /** A partition task writes a RocksDB checkpoint after this many batches... */
  readonly checkpointBatches: number
  /** ...or after this long (the batches in between are replayable from their recorded order). */
  readonly checkpointIntervalMs: number
  /**
   * Threads that run the partition tasks (decoding, detectors, screening, models), leaving the
   * main thread to Kafka and RocksDB; partition p runs on thread p mod this. 0 runs everything on
   * the main thread (PITBOSS_PROCESSING_THREADS, default 1: on this project's two-core machine
   * two threads cost ~20% more CPU per event for no more throughput, bench/README.md).
   */
  readonly processingThreads: number
}

/** The repository root (this file is core/config.ts). */
const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export interface PitbossConfig {
  /** Working folder for state, local services and run files. */
  readonly homeDir: string
  /** Public reference data (sanctions lists, regulator schemas, AMLSim graphs): `../shared/data` beside the repository. */
  readonly referenceDataDir: string
  readonly instanceId: string
  readonly logLevel: string
  readonly kafka: KafkaConfig
  readonly registry: { readonly url: string }
  readonly clickhouse: { readonly url: string; readonly database: string; readonly username: string; readonly password: string }
  /**
   * `dir`: the engine's RocksDB. `cachePlayers`: player states each partition task keeps in
   * memory between batches (least recently checkpointed dropped first); the V8 heap holds about
   * 8-9 KB per cached player (memory bench), so 8 partitions at the default take ~1.4 GB.
   */
  readonly state: { readonly dir: string; readonly cachePlayers: number }
  readonly pipeline: PipelineConfig
  /**
   * `ruleSetPath`: the active rule set the engines watch; `versionsDir`: every version proposed
   * through the API (never overwritten). Activating through the API writes `ruleSetPath`, so in a
   * deployment it belongs under PITBOSS_HOME, not in the repository (docker-compose.yml does so).
   */
  readonly rules: { readonly ruleSetPath: string; readonly versionsDir: string }
  /** Folder of sanctions and PEP lists in their published layouts (screening/directory.ts); null = run without screening. */
  readonly screening: { readonly listsDir: string | null; readonly reloadIntervalMs: number }
  readonly api: {
    readonly host: string
    readonly port: number
    /** OAuth2 bearer JWT verification (api/jwt.ts); with neither a secret nor a keys file every protected route answers 401. */
    readonly jwt: { readonly hs256Secret: string | null; readonly publicKeysFile: string | null; readonly issuer: string; readonly audience: string; readonly clockSkewMs: number }
    readonly rateLimits: { readonly subject: { readonly burst: number; readonly refillPerSecond: number }; readonly ip: { readonly burst: number; readonly refillPerSecond: number } }
    /** The hash-chained audit log of the API (api/audit.ts). */
    readonly auditFile: string
    /** Serve the AML console's pages under /console/ (PITBOSS_API_CONSOLE, default on). */
    readonly console: boolean
    /**
     * Signed inbound webhooks (api/routes/webhooks.ts): shared secrets per source (comma-separated,
     * several for rotation; a source without one is not served), the nonce file that outlives
     * restarts, and the accepted clock difference.
     */
    readonly webhooks: { readonly kycSecrets: readonly string[]; readonly regulatorSecrets: readonly string[]; readonly nonceFile: string; readonly toleranceMs: number }
  }
  /**
   * Models: folders of ONNX models with manifests, the deployment file naming the champion and
   * shadows (changed by the API or `models/cli.ts`, re-read by the engine every reloadIntervalMs),
   * and the champion to start with when no deployment file exists. `enabled` false (PITBOSS_MODELS=off)
   * decides without a model.
   */
  readonly models: { readonly enabled: boolean; readonly dir: string; readonly deploymentFile: string; readonly defaultChampion: string | null; readonly reloadIntervalMs: number }
  /** The link graph: whether the engine re-keys identifiers into risk.links.v1, and the graph worker's own settings. */
  readonly graph: {
    readonly links: boolean
    readonly groupId: string
    readonly stateDir: string
    readonly recomputeIntervalMs: number
    readonly recomputeRecords: number
    /** Null: the engine's metrics port + 1 (0 stays 0, a free port). */
    readonly metricsPort: number | null
  }
  /** The case service's RocksDB folder (one process owns it). */
  readonly cases: { readonly dir: string }
  /**
   * STR/SAR filing (sinks/str, api/routes/str.ts): the reporting entity the FIU registered, the
   * reporting person, the local currency. The defaults are examples for development: set the
   * id and names the FIU registered before filing.
   */
  readonly str: {
    readonly entityId: number
    readonly entityName: string
    readonly entityCountry: string
    readonly branch: string | null
    readonly transactionLocation: string
    readonly reporter: { readonly firstName: string; readonly lastName: string; readonly email: string | null; readonly occupation: string | null }
    readonly localCurrency: string
  }
  /** Where the engine and the sink serve Prometheus metrics (`/metrics`); port 0 picks a free one. */
  readonly metrics: { readonly host: string; readonly port: number }
}

type Env = Readonly<Record<string, string | undefined>>

function text(env: Env, name: string, fallback: string): string {
  const value = env[name]
  return value === undefined || value === '' ? fallback : value
}

function integer(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^-?\d+$/.test(raw.trim())) throw new RiskError('RISK_ERR_CONFIG_INVALID', `${name} must be an integer, got '${raw}'`, { variable: name })
  const value = Number(raw.trim())
  if (!Number.isSafeInteger(value) || value < min) throw new RiskError('RISK_ERR_CONFIG_INVALID', `${name} must be an integer >= ${min}, got '${raw}'`, { variable: name })
  return value
}

function url(env: Env, name: string, fallback: string): string {
  const value = text(env, name, fallback)
  try {
    new URL(value)
  } catch {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `${name} must be a URL, got '${value}'`, { variable: name })
  }
  return value.replace(/\/+$/, '')
}

function optionalText(env: Env, name: string): string | null {
  const value = env[name]
  return value === undefined || value === '' ? null : value
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
}

function optionalPath(env: Env, name: string): string | null {
  const value = optionalText(env, name)
  return value === null ? null : path.resolve(value)
}

function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = text(env, name, fallback).toLowerCase()
  if ((choices as readonly string[]).includes(value)) return value as T
  throw new RiskError('RISK_ERR_CONFIG_INVALID', `${name} must be one of ${choices.join(', ')}, got '${value}'`, { variable: name })
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const value = text(env, name, fallback ? 'on' : 'off').toLowerCase()
  if (value === 'on' || value === 'true' || value === '1') return true
  if (value === 'off' || value === 'false' || value === '0') return false
  throw new RiskError('RISK_ERR_CONFIG_INVALID', `${name} must be on or off, got '${value}'`, { variable: name })
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value as object)) deepFreeze(inner)
  }
  return value
}

function screeningListsDir(env: Env, referenceDataDir: string): string | null {
  const value = text(env, 'PITBOSS_SCREENING_LISTS_DIR', path.join(referenceDataDir, 'sanctions'))
  return value === 'off' ? null : path.resolve(value)
}

/** The model folder to start with when no deployment file exists; 'none' starts without a champion. */
function defaultChampion(env: Env): string | null {
  const value = text(env, 'PITBOSS_MODELS_DEFAULT_CHAMPION', 'withdrawal-typology-xgb-v2')
  return value === 'none' ? null : value
}

export function loadConfig(env: Env = process.env): PitbossConfig {
  const homeDir = path.resolve(text(env, 'PITBOSS_HOME', '.pitboss'))
  const referenceDataDir = path.resolve(text(env, 'PITBOSS_REFERENCE_DATA_DIR', path.join(REPOSITORY_ROOT, '..', 'shared', 'data')))
  const brokers = text(env, 'PITBOSS_KAFKA_BROKERS', '127.0.0.1:9092').split(',').map((broker) => broker.trim()).filter(Boolean)
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d+$/.test(broker)) throw new RiskError('RISK_ERR_CONFIG_INVALID', `PITBOSS_KAFKA_BROKERS entries must be host:port, got '${broker}'`, { variable: 'PITBOSS_KAFKA_BROKERS' })
  }
  const instanceId = text(env, 'PITBOSS_INSTANCE_ID', 'engine-0')
  if (!/^[A-Za-z0-9._-]+$/.test(instanceId)) throw new RiskError('RISK_ERR_CONFIG_INVALID', `PITBOSS_INSTANCE_ID may hold letters, digits, '.', '_' and '-', got '${instanceId}'`, { variable: 'PITBOSS_INSTANCE_ID' })
  const config: PitbossConfig = {
    homeDir,
    referenceDataDir,
    instanceId,
    logLevel: text(env, 'PITBOSS_LOG_LEVEL', 'info'), // pino levels: trace debug info warn error fatal silent
    kafka: {
      brokers,
      clientId: text(env, 'PITBOSS_KAFKA_CLIENT_ID', `pitboss-${instanceId}`),
      groupId: text(env, 'PITBOSS_KAFKA_GROUP_ID', 'pitboss-engine'),
      topicPrefix: text(env, 'PITBOSS_TOPIC_PREFIX', ''),
      sessionTimeoutMs: integer(env, 'PITBOSS_KAFKA_SESSION_TIMEOUT_MS', 10_000, 1000), // default 10 s: a dead process loses its partitions within this
      heartbeatIntervalMs: integer(env, 'PITBOSS_KAFKA_HEARTBEAT_INTERVAL_MS', 1_000, 100),
      rebalanceTimeoutMs: integer(env, 'PITBOSS_KAFKA_REBALANCE_TIMEOUT_MS', 20_000, 1000),
      maxWaitTimeMs: integer(env, 'PITBOSS_KAFKA_MAX_WAIT_MS', 100, 1), // default 100 ms: bounds the latency an idle partition adds
      outputProducer: oneOf(env, 'PITBOSS_KAFKA_OUTPUT_PRODUCER', OUTPUT_PRODUCER_CHOICES, 'auto'),
      outputStatisticsIntervalMs: integer(env, 'PITBOSS_KAFKA_OUTPUT_STATS_INTERVAL_MS', 10_000, 0),
    },
    registry: { url: url(env, 'PITBOSS_REGISTRY_URL', 'http://127.0.0.1:8081') },
    clickhouse: {
      url: url(env, 'PITBOSS_CLICKHOUSE_URL', 'http://127.0.0.1:18123'),
      database: text(env, 'PITBOSS_CLICKHOUSE_DATABASE', 'pitboss'),
      username: text(env, 'PITBOSS_CLICKHOUSE_USER', 'default'),
      password: text(env, 'PITBOSS_CLICKHOUSE_PASSWORD', ''),
    },
    state: {
      dir: path.resolve(text(env, 'PITBOSS_STATE_DIR', path.join(homeDir, 'state', instanceId))),
      cachePlayers: integer(env, 'PITBOSS_STATE_CACHE_PLAYERS', 20_000, 0), // per partition task; 0 = read every player from RocksDB
    },
    pipeline: {
      maxPayloadBytes: integer(env, 'PITBOSS_MAX_PAYLOAD_BYTES', 256 * 1024, 64), // default 256 KiB
      maxFutureSkewMs: integer(env, 'PITBOSS_MAX_FUTURE_SKEW_MS', 24 * 60 * 60 * 1000), // default 1 day
      maxBufferedRecords: integer(env, 'PITBOSS_MAX_BUFFERED_RECORDS', 20_000, 100),
      // A checkpoint re-serialises every player touched since the last one (about 3.6 KB of JSON
      // each): at 1 s it cost ~10% of the engine's busy time in the e2e profile. Every 5 s (Kafka
      // Streams commits every 30 s) a crash replays up to 5 s of pending batches instead of 1.
      checkpointBatches: integer(env, 'PITBOSS_CHECKPOINT_BATCHES', 100, 1), // default 100 batches of up to 500 records
      checkpointIntervalMs: integer(env, 'PITBOSS_CHECKPOINT_INTERVAL_MS', 5000, 1), // default 5 s
      processingThreads: integer(env, 'PITBOSS_PROCESSING_THREADS', 1, 0),
    },
    rules: {
      ruleSetPath: path.resolve(text(env, 'PITBOSS_RULE_SET', 'detectors/rule-sets/default.json')),
      versionsDir: path.resolve(text(env, 'PITBOSS_RULE_SET_VERSIONS_DIR', path.join(homeDir, 'rule-sets'))),
    },
    // default: the public lists in the reference data; 'off' disables. The folder is checked for changed files every reloadIntervalMs.
    screening: { listsDir: screeningListsDir(env, referenceDataDir), reloadIntervalMs: integer(env, 'PITBOSS_SCREENING_RELOAD_INTERVAL_MS', 30_000, 100) },
    api: {
      host: text(env, 'PITBOSS_API_HOST', '127.0.0.1'),
      port: integer(env, 'PITBOSS_API_PORT', 8080, 0),
      jwt: {
        hs256Secret: optionalText(env, 'PITBOSS_API_JWT_HS256_SECRET'),
        publicKeysFile: optionalPath(env, 'PITBOSS_API_JWT_PUBLIC_KEYS_FILE'),
        issuer: text(env, 'PITBOSS_API_JWT_ISSUER', 'pitboss-dev'),
        audience: text(env, 'PITBOSS_API_JWT_AUDIENCE', 'pitboss-api'),
        clockSkewMs: integer(env, 'PITBOSS_API_JWT_CLOCK_SKEW_MS', 30_000),
      },
      rateLimits: {
        subject: { burst: integer(env, 'PITBOSS_API_RATE_LIMIT_SUBJECT_BURST', 120, 1), refillPerSecond: integer(env, 'PITBOSS_API_RATE_LIMIT_SUBJECT_PER_SECOND', 20, 1) },
        ip: { burst: integer(env, 'PITBOSS_API_RATE_LIMIT_IP_BURST', 60, 1), refillPerSecond: integer(env, 'PITBOSS_API_RATE_LIMIT_IP_PER_SECOND', 10, 1) },
      },
      auditFile: path.resolve(text(env, 'PITBOSS_API_AUDIT_FILE', path.join(homeDir, 'audit', 'api-audit.jsonl'))),
      console: onOff(env, 'PITBOSS_API_CONSOLE', true),
      webhooks: {
        kycSecrets: list(env, 'PITBOSS_API_WEBHOOK_KYC_SECRETS'),
        regulatorSecrets: list(env, 'PITBOSS_API_WEBHOOK_REGULATOR_SECRETS'),
        nonceFile: path.resolve(text(env, 'PITBOSS_API_WEBHOOK_NONCE_FILE', path.join(homeDir, 'audit', 'webhook-nonces.jsonl'))),
        toleranceMs: integer(env, 'PITBOSS_API_WEBHOOK_TOLERANCE_MS', 5 * 60_000, 1000),
      },
    },
    metrics: { host: text(env, 'PITBOSS_METRICS_HOST', '127.0.0.1'), port: integer(env, 'PITBOSS_METRICS_PORT', 9464, 0) }, // default 9464, Prometheus exporters' customary port
    models: {
      enabled: onOff(env, 'PITBOSS_MODELS', true),
      dir: path.resolve(text(env, 'PITBOSS_MODELS_DIR', path.join(REPOSITORY_ROOT, 'models', 'shipped'))),
      deploymentFile: path.resolve(text(env, 'PITBOSS_MODELS_DEPLOYMENT_FILE', path.join(homeDir, 'models', 'deployment.json'))),
      defaultChampion: defaultChampion(env),
      reloadIntervalMs: integer(env, 'PITBOSS_MODELS_RELOAD_INTERVAL_MS', 2000, 100),
    },
    graph: {
      links: onOff(env, 'PITBOSS_GRAPH_LINKS', true),
      groupId: text(env, 'PITBOSS_GRAPH_GROUP_ID', `${text(env, 'PITBOSS_KAFKA_GROUP_ID', 'pitboss-engine')}-graph`),
      stateDir: path.resolve(text(env, 'PITBOSS_GRAPH_STATE_DIR', `${text(env, 'PITBOSS_STATE_DIR', path.join(homeDir, 'state', instanceId))}-graph`)),
      recomputeIntervalMs: integer(env, 'PITBOSS_GRAPH_RECOMPUTE_INTERVAL_MS', 2000, 10),
      recomputeRecords: integer(env, 'PITBOSS_GRAPH_RECOMPUTE_RECORDS', 20_000, 1),
      metricsPort: env.PITBOSS_GRAPH_METRICS_PORT === undefined || env.PITBOSS_GRAPH_METRICS_PORT === '' ? null : integer(env, 'PITBOSS_GRAPH_METRICS_PORT', 0, 0),
    },
    cases: { dir: path.resolve(text(env, 'PITBOSS_CASES_DIR', path.join(homeDir, 'cases'))) },
    str: {
      entityId: integer(env, 'PITBOSS_STR_ENTITY_ID', 1, 1),
      entityName: text(env, 'PITBOSS_STR_ENTITY_NAME', 'Example Casino Ltd'),
      entityCountry: text(env, 'PITBOSS_STR_ENTITY_COUNTRY', 'MT'),
      branch: optionalText(env, 'PITBOSS_STR_BRANCH'),
      transactionLocation: text(env, 'PITBOSS_STR_TRANSACTION_LOCATION', 'Online casino'),
      reporter: {
        firstName: text(env, 'PITBOSS_STR_REPORTER_FIRST_NAME', 'Compliance'),
        lastName: text(env, 'PITBOSS_STR_REPORTER_LAST_NAME', 'Officer'),
        email: optionalText(env, 'PITBOSS_STR_REPORTER_EMAIL'),
        occupation: optionalText(env, 'PITBOSS_STR_REPORTER_OCCUPATION') ?? 'MLRO',
      },
      localCurrency: text(env, 'PITBOSS_STR_LOCAL_CURRENCY', 'EUR'),
    },
  }
  return deepFreeze(config)
}
