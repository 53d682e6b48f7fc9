/**
 * `npm run infra:up | infra:down | infra:status` — the local substrate for development, tests
 * and the demo. Each failure is one line saying what is wrong and how to fix it.
 */
import { loadConfig } from '../core/config.js'
import { isRiskError } from '../core/errors.js'
import { startSubstrate, stopSubstrate, substrateStatus } from './substrate.js'

const command = process.argv[2] ?? 'status'
const config = loadConfig()

async function main(): Promise<void> {
  if (command === 'up') {
    const info = await startSubstrate({ homeDir: config.homeDir, topicPrefix: config.kafka.topicPrefix, clickhouseDatabase: config.clickhouse.database })
    process.stdout.write(`broker     ${info.brokers.join(',')} (control port ${info.brokerControlPort})\nregistry   ${info.registryUrl}\nclickhouse ${info.clickhouseUrl} (database ${info.clickhouseDatabase})\nenv file   ${config.homeDir}/run/substrate.env\n`)
  } else if (command === 'down') {
    await stopSubstrate(config.homeDir)
    process.stdout.write('local substrate stopped\n')
  } else if (command === 'status') {
    for (const [name, state] of Object.entries(await substrateStatus(config.homeDir))) process.stdout.write(`${name.padEnd(10)} ${state}\n`)
  } else {
    process.stderr.write(`unknown command '${command}': use up, down or status\n`)
    process.exitCode = 2
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${isRiskError(error) ? error.message : error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exitCode = 1
})
