/**
 * The local substrate: broker (librdkafka mock cluster), schema registry and ClickHouse, started
 * together for tests and the demo, each idempotently (a running one is reused), with the
 * ClickHouse migrations applied. Writes `${homeDir}/run/substrate.env` with the PITBOSS_*
 * variables that point the engine at it.
 *
 * Example: `npx tsx infra/cli.ts up` then `set -a; . .pitboss/run/substrate.env; set +a`.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { topicCatalog } from '../core/topics.js'
import { createClickHouse } from '../sinks/clickhouse/client.js'
import { migrate } from '../sinks/clickhouse/migrate.js'
import { startBroker, stopBroker, brokerStatus } from './broker/launcher.js'
import { startClickHouse, stopClickHouse, clickHouseStatus } from './clickhouse/launcher.js'
import { startRegistry, stopRegistry, registryStatus } from './registry/launcher.js'

export interface SubstrateInfo {
  readonly homeDir: string
  readonly brokers: readonly string[]
  readonly brokerControlPort: number
  readonly registryUrl: string
  readonly clickhouseUrl: string
  readonly clickhouseDatabase: string
}

export interface StartSubstrateOptions {
  readonly homeDir: string
  /** Topic-name prefix of the catalog topics to pre-create (default none). */
  readonly topicPrefix?: string
  readonly brokerCount?: number
  readonly clickhouseDatabase?: string
}

export function substrateEnv(info: SubstrateInfo): Record<string, string> {
  return {
    PITBOSS_HOME: info.homeDir,
    PITBOSS_KAFKA_BROKERS: info.brokers.join(','),
    PITBOSS_REGISTRY_URL: info.registryUrl,
    PITBOSS_CLICKHOUSE_URL: info.clickhouseUrl,
    PITBOSS_CLICKHOUSE_DATABASE: info.clickhouseDatabase,
  }
}

export async function startSubstrate(options: StartSubstrateOptions): Promise<SubstrateInfo> {
  const homeDir = path.resolve(options.homeDir)
  const database = options.clickhouseDatabase ?? 'pitboss'
  const [broker, registry, clickhouse] = await Promise.all([
    startBroker({ homeDir, brokers: options.brokerCount ?? 1, topics: topicCatalog(options.topicPrefix ?? '') }),
    startRegistry({ homeDir }),
    startClickHouse({ homeDir }),
  ])
  const client = createClickHouse({ url: clickhouse.url, database, username: 'default', password: '' })
  try {
    await migrate(client, database)
  } finally {
    await client.close()
  }
  const info: SubstrateInfo = { homeDir, brokers: broker.brokers, brokerControlPort: broker.controlPort, registryUrl: registry.url, clickhouseUrl: clickhouse.url, clickhouseDatabase: database }
  const env = Object.entries(substrateEnv(info)).map(([name, value]) => `${name}=${value}`).join('\n') + '\n'
  await fs.mkdir(path.join(homeDir, 'run'), { recursive: true })
  await fs.writeFile(path.join(homeDir, 'run', 'substrate.env'), env)
  return info
}

export async function stopSubstrate(homeDir: string): Promise<void> {
  const resolved = path.resolve(homeDir)
  await Promise.all([stopBroker(resolved), stopRegistry(resolved), stopClickHouse(resolved)])
  await fs.rm(path.join(resolved, 'run', 'substrate.env'), { force: true })
}

export async function substrateStatus(homeDir: string): Promise<Record<string, string>> {
  const resolved = path.resolve(homeDir)
  const [broker, registry, clickhouse] = await Promise.all([brokerStatus(resolved), registryStatus(resolved), clickHouseStatus(resolved)])
  return {
    broker: broker === null ? 'stopped' : `running pid ${broker.pid} at ${broker.bootstrap} (control ${broker.controlPort})`,
    registry: registry.running ? `running pid ${registry.pid} at ${registry.url}` : `stopped (${registry.reason})`,
    clickhouse: clickhouse.running ? `running pid ${clickhouse.info.pid} at ${clickhouse.info.url}` : 'stopped',
  }
}
