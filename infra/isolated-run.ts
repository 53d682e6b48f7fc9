/**
 * One isolated run on a shared local substrate, for tests and benchmarks: its own catalog topics
 * (created on the broker under the prefix `${id}.`), engine group, state folder and ClickHouse
 * database, short group timings, and a codec with every schema registered.
 *
 * Example:
 *   const run = await isolatedRun(substrate, 'crash-1a2b3c4d', '/tmp/pitboss-crash-x', { PITBOSS_MODELS: 'off' })
 *   run.env   // PITBOSS_* variables for the processes of this run
 */
import path from 'node:path'
import { loadConfig, type PitbossConfig } from '../core/config.js'
import { topicCatalog } from '../core/topics.js'
import { AvroCodec, createHttpRegistryClient } from '../schemas/codec.js'
import { BrokerControl } from './broker/launcher.js'
import { substrateEnv, type SubstrateInfo } from './substrate.js'

export interface IsolatedRun {
  readonly prefix: string
  readonly env: Record<string, string>
  readonly config: PitbossConfig
  readonly codec: AvroCodec
}

/** `overrides` are PITBOSS_* variables on top of the run's own. */
export async function isolatedRun(substrate: SubstrateInfo, id: string, workDir: string, overrides: Record<string, string> = {}): Promise<IsolatedRun> {
  const prefix = `${id}.`
  const control = new BrokerControl(substrate.brokerControlPort)
  try {
    for (const topic of topicCatalog(prefix)) await control.createTopic(topic.name, topic.partitions)
  } finally {
    await control.close()
  }
  const env: Record<string, string> = {
    ...substrateEnv(substrate),
    PITBOSS_HOME: workDir,
    PITBOSS_TOPIC_PREFIX: prefix,
    PITBOSS_KAFKA_GROUP_ID: `${id}-engine`,
    PITBOSS_STATE_DIR: path.join(workDir, 'state'),
    PITBOSS_METRICS_PORT: '0',
    PITBOSS_KAFKA_SESSION_TIMEOUT_MS: '6000',
    PITBOSS_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    PITBOSS_KAFKA_REBALANCE_TIMEOUT_MS: '6000',
    PITBOSS_KAFKA_MAX_WAIT_MS: '100',
    PITBOSS_CLICKHOUSE_DATABASE: `pitboss_${id.replace(/[^A-Za-z0-9]/g, '_')}`,
    PITBOSS_LOG_LEVEL: 'info',
    ...overrides,
  }
  const config = loadConfig(env)
  const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), prefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
  await codec.registerAll()
  return { prefix, env, config, codec }
}
