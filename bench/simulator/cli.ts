/**
 * Writes a simulated casino day (or several) to a file of JSON lines, and its labels to another.
 *
 *   tsx bench/simulator/cli.ts --seed 7 --players 2000 --days 1 --out events.jsonl [--labels labels.jsonl] [--start 2026-01-05]
 *   tsx bench/simulator/cli.ts --seed 7 --players 2000 --days 1 --broker [--rate 5000] [--labels labels.jsonl]
 *
 * `--broker` produces to the broker and registry of the PITBOSS_* configuration (core/config.ts),
 * at `--rate` events per second or as fast as possible; `--out` and `--broker` may be combined.
 * The sanctioned name comes from the OFAC list under the configured reference data folder
 * (PITBOSS_REFERENCE_DATA_DIR). Progress goes to stderr, a summary to stdout.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../../core/config.js'
import { RiskError } from '../../core/errors.js'
import { produceToBroker } from './broker-output.js'
import { writeJsonLines } from './json-lines.js'
import { progressBar } from '../../core/progress.js'
import { loadSanctionedName } from './sanctions.js'
import { DEFAULT_START_MS, simulate } from './simulate.js'

const USAGE = 'usage: tsx bench/simulator/cli.ts --seed N --players N --days N (--out FILE | --broker [--rate EVENTS_PER_S]) [--labels FILE] [--start YYYY-MM-DD]'

function wholeNumber(name: string, text: string, minimum: number): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < minimum) throw new RiskError('RISK_ERR_CONFIG_INVALID', `--${name} must be a whole number >= ${minimum}, got '${text}'; ${USAGE}`)
  return value
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: {
    seed: { type: 'string', default: '7' }, players: { type: 'string', default: '2000' }, days: { type: 'string', default: '1' },
    out: { type: 'string' }, labels: { type: 'string' }, start: { type: 'string' }, broker: { type: 'boolean', default: false },
    rate: { type: 'string', default: '0' },
  } })
  if (args.out === undefined && !args.broker) throw new RiskError('RISK_ERR_CONFIG_INVALID', `--out FILE or --broker is required; ${USAGE}`)
  const ratePerSecond = wholeNumber('rate', args.rate, 0)
  const seed = wholeNumber('seed', args.seed, 0)
  const players = wholeNumber('players', args.players, 0)
  const days = wholeNumber('days', args.days, 1)
  const startMs = args.start === undefined ? DEFAULT_START_MS : Date.parse(`${args.start}T00:00:00Z`)
  if (Number.isNaN(startMs)) throw new RiskError('RISK_ERR_CONFIG_INVALID', `--start must be a date YYYY-MM-DD, got '${args.start}'`)

  const config = loadConfig()
  const sanctionedName = loadSanctionedName(config.referenceDataDir, seed)
  const generating = progressBar('generating', players)
  const startedMs = performance.now()
  const simulation = simulate({ seed, players, days, startMs, sanctionedName, onProgress: (done) => generating.update(done) })
  const generatedMs = performance.now() - startedMs
  generating.done(`${simulation.events.length} events in ${(generatedMs / 1000).toFixed(2)} s`)
  if (args.out !== undefined) {
    const writing = progressBar('writing', simulation.events.length)
    writeJsonLines(args.out, simulation.events, (written) => writing.update(written))
    writing.done()
  }
  if (args.broker) {
    const producing = progressBar(`producing to ${config.kafka.brokers.join(',')}`, simulation.events.length)
    await produceToBroker(simulation.events, config, { ratePerSecond, onProgress: (produced) => producing.update(produced) })
    producing.done()
  }
  if (args.labels !== undefined) writeJsonLines(args.labels, simulation.labels)

  const byTopic = new Map<string, number>()
  for (const event of simulation.events) byTopic.set(event.topic, (byTopic.get(event.topic) ?? 0) + 1)
  const totalMs = performance.now() - startedMs
  const targets = [args.out, args.broker ? `broker ${config.kafka.brokers.join(',')} (topic prefix '${config.kafka.topicPrefix}')` : undefined].filter((target) => target !== undefined).join(' and ')
  process.stdout.write(`${simulation.events.length} events (${[...byTopic].map(([topic, count]) => `${topic} ${count}`).join(', ')}) -> ${targets}\n`)
  process.stdout.write(`${simulation.labels.length} labels${args.labels === undefined ? ' (not written: no --labels)' : ` -> ${args.labels}`}\n`)
  process.stdout.write(`generation ${Math.round(simulation.events.length / (generatedMs / 1000))} events/s; with output ${Math.round(simulation.events.length / (totalMs / 1000))} events/s\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
