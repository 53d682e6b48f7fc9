/**
 * Memory (issue 10): the engine's RSS and the RocksDB folder's size once it holds the state of
 * many players (default 1M, `--players` for less). Each player gets a registration, a login, a
 * deposit and a settled bet (4 events), produced with back-pressure (never more than
 * --ahead events beyond what the engine has processed), because the mock broker keeps only
 * ~5 MiB per partition. Figures: RSS at the end, peak RSS, RocksDB bytes while running and after
 * a clean stop (the final checkpoint), bytes per player.
 * Baseline in the same run: the same engine's RSS and state folder before any event.
 * Repeated (--repetitions, default 3; each a fresh engine on fresh topics and an empty state
 * folder): every figure is the median over the repetitions, each repetition's in the JSON.
 *
 *   npx tsx bench/memory.bench.ts [--players 1000000] [--ahead 100000] [--repetitions 3] [--keep-substrate]
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sleep } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { stopSubstrate, type SubstrateInfo } from '../infra/substrate.js'
import { bet, deposit, device, player } from './events.js'
import { EngineChild, benchTopics, directoryBytes, machineInfo, median, positiveIntegerOption, printFigures, produceMessages, say, scrapeCounter, scrapeInputsProcessed, startBenchSubstrate, writeBenchResult, type OutgoingMessage } from './lib/harness.js'
import { DEFAULT_START_MS } from './simulator/simulate.js'

const { values: args } = parseArgs({ options: {
  players: { type: 'string', default: '1000000' }, ahead: { type: 'string', default: '100000' }, repetitions: { type: 'string', default: '3' }, 'keep-substrate': { type: 'boolean', default: false },
} })

const MIB = 2 ** 20
const JURISDICTIONS = ['MT', 'UK', 'CW'] as const

/** One repetition's measurements, in bytes (exit code as it was). */
interface Measured {
  readonly idleRssBytes: number
  readonly endRssBytes: number
  readonly peakRssBytes: number
  readonly heapTotalBytes: number
  readonly heapUsedBytes: number
  readonly threadHeapTotalBytes: number
  readonly threadHeapUsedBytes: number
  readonly externalBytes: number
  readonly idleStateBytes: number
  readonly runningStateBytes: number
  readonly stoppedStateBytes: number
  readonly stopCode: number | null
}

/** A fresh engine on fresh topics, fed `players` players' four events each with back-pressure. */
async function measure(substrate: SubstrateInfo, benchDir: string, index: number, players: number, ahead: number): Promise<Measured> {
  const run = await benchTopics(substrate, benchDir, `memory-${index}`)
  const stateDir = path.join(run.runDir, 'state')
  const engine = new EngineChild(run, 'engine').start()
  try {
    const port = await engine.metricsPort(120_000)
    await sleep(3_000) // settled after start: the baseline
    const idleRssBytes = engine.rssBytes()
    const idleStateBytes = directoryBytes(stateDir)
    // Built lazily per chunk: 4M encoded messages at once would measure this process, not the engine.
    const chunkPlayers = 10_000
    let peakRssBytes = idleRssBytes
    let processed = 0
    const total = players * 4
    for (let first = 0; first < players; first += chunkPlayers) {
      const messages: OutgoingMessage[] = []
      for (let index = first; index < Math.min(players, first + chunkPlayers); index += 1) {
        const playerId = `mem-${String(index).padStart(7, '0')}`
        const timeMs = DEFAULT_START_MS + Math.floor((index / players) * 20 * 3_600_000)
        messages.push(
          { topic: 'players', key: playerId, value: run.codec.encode('players', player({ playerId, eventTimeMs: timeMs, jurisdiction: JURISDICTIONS[index % 3] as (typeof JURISDICTIONS)[number] })) },
          { topic: 'devices', key: playerId, value: run.codec.encode('devices', device({ playerId, eventTimeMs: timeMs + 1_000, ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}` })) },
          { topic: 'deposits', key: playerId, value: run.codec.encode('deposits', deposit({ playerId, eventTimeMs: timeMs + 2_000, amountMinor: 10_00 + (index % 500) * 10 })) },
          { topic: 'bets', key: playerId, value: run.codec.encode('bets', bet({ playerId, eventTimeMs: timeMs + 3_000, stakeMinor: 2_00, winMinor: index % 2 === 0 ? 4_00 : 0 })) },
        )
      }
      const producedBefore = first * 4
      await produceMessages(run.config, messages, {
        beforeBatch: async (producedInChunk) => {
          while (producedBefore + producedInChunk - processed > ahead) {
            processed = await scrapeInputsProcessed(port)
            peakRssBytes = Math.max(peakRssBytes, engine.rssBytes())
            if (!engine.running) throw new Error(`the engine exited; see ${engine.logFile}`)
            await sleep(100)
          }
        },
      })
      if ((first / chunkPlayers) % 10 === 0) say(`repetition ${index}: players ${Math.min(players, first + chunkPlayers)}/${players}, engine processed ${processed}, RSS ${(engine.rssBytes() / MIB).toFixed(0)} MiB`)
    }
    const deadlineMs = Date.now() + 60 * 60_000
    while (processed < total) {
      processed = await scrapeInputsProcessed(port)
      peakRssBytes = Math.max(peakRssBytes, engine.rssBytes())
      if (!engine.running || Date.now() > deadlineMs) throw new Error(`the engine stopped at ${processed} of ${total}; see ${engine.logFile}`)
      await sleep(200)
    }
    await sleep(3_000) // a checkpoint interval or two
    const endRssBytes = engine.rssBytes()
    peakRssBytes = Math.max(peakRssBytes, endRssBytes)
    // Where the RSS is: the V8 heap (committed and used), memory V8 counts outside it (Buffers), the rest native.
    // The main thread's heap and every processing thread's (each thread is an isolate of its own).
    const threadHeapTotalBytes = await scrapeCounter(port, 'pitboss_processing_thread_heap_size_total_bytes')
    const threadHeapUsedBytes = await scrapeCounter(port, 'pitboss_processing_thread_heap_size_used_bytes')
    const heapTotalBytes = await scrapeCounter(port, 'pitboss_process_nodejs_heap_size_total_bytes') + threadHeapTotalBytes
    const heapUsedBytes = await scrapeCounter(port, 'pitboss_process_nodejs_heap_size_used_bytes') + threadHeapUsedBytes
    const externalBytes = await scrapeCounter(port, 'pitboss_process_nodejs_external_memory_bytes') + await scrapeCounter(port, 'pitboss_processing_thread_external_memory_bytes')
    const runningStateBytes = directoryBytes(stateDir)
    const stopCode = await engine.stop('SIGTERM')
    const stoppedStateBytes = directoryBytes(stateDir)
    say(`repetition ${index}: RSS ${(endRssBytes / MIB).toFixed(0)} MiB at the end (idle ${(idleRssBytes / MIB).toFixed(0)}), RocksDB ${(stoppedStateBytes / MIB).toFixed(0)} MiB after the stop`)
    return { idleRssBytes, endRssBytes, peakRssBytes, heapTotalBytes, heapUsedBytes, threadHeapTotalBytes, threadHeapUsedBytes, externalBytes, idleStateBytes, runningStateBytes, stoppedStateBytes, stopCode }
  } finally {
    await engine.stop('SIGTERM')
  }
}

async function main(): Promise<void> {
  const startedMs = Date.now()
  const base = loadConfig()
  const machine = machineInfo()
  const players = Number(args.players)
  const ahead = Number(args.ahead)
  const repetitions = positiveIntegerOption('repetitions', args.repetitions)
  const benchDir = path.join(base.homeDir, 'bench', 'runs', `memory-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`)
  const substrate = await startBenchSubstrate(base.homeDir)
  try {
    const rows: Measured[] = []
    for (let index = 1; index <= repetitions; index += 1) rows.push(await measure(substrate, benchDir, index, players, ahead))
    const mib = (name: Exclude<keyof Measured, 'stopCode'>): number => median(rows.map((row) => row[name])) / MIB
    const total = players * 4
    const result = {
      name: 'memory', title: `Memory: engine RSS and RocksDB size with ${players.toLocaleString('en-US')} players' state`, dateIso: new Date().toISOString(), durationSeconds: (Date.now() - startedMs) / 1000, machine,
      parameters: { players, eventsPerPlayer: 4, events: total, aheadEvents: ahead, repetitions },
      figures: [
        { label: `engine RSS at the end (median of ${repetitions})`, value: mib('endRssBytes'), unit: 'MiB', baseline: { label: 'idle engine before any event', value: mib('idleRssBytes') } },
        { label: 'engine peak RSS', value: mib('peakRssBytes'), unit: 'MiB' },
        { label: 'of the RSS at the end: V8 heap committed', value: mib('heapTotalBytes'), unit: 'MiB' },
        { label: 'of the RSS at the end: V8 heap used', value: mib('heapUsedBytes'), unit: 'MiB' },
        { label: 'of the V8 heap: committed by the processing threads', value: mib('threadHeapTotalBytes'), unit: 'MiB' },
        { label: 'of the V8 heap: used by the processing threads', value: mib('threadHeapUsedBytes'), unit: 'MiB' },
        { label: 'of the RSS at the end: external (Buffers)', value: mib('externalBytes'), unit: 'MiB' },
        { label: 'of the RSS at the end: the rest (native: RocksDB, allocator, code)', value: median(rows.map((row) => row.endRssBytes - row.heapTotalBytes - row.externalBytes)) / MIB, unit: 'MiB' },
        { label: 'RocksDB folder while running', value: mib('runningStateBytes'), unit: 'MiB', baseline: { label: 'before any event', value: mib('idleStateBytes') } },
        { label: 'RocksDB folder after a clean stop', value: mib('stoppedStateBytes'), unit: 'MiB' },
        { label: 'RocksDB bytes per player (after stop)', value: median(rows.map((row) => (row.stoppedStateBytes - row.idleStateBytes) / players)), unit: 'bytes' },
      ],
      repetitions: rows.map((row) => ({ endRssMiB: row.endRssBytes / MIB, peakRssMiB: row.peakRssBytes / MIB, idleRssMiB: row.idleRssBytes / MIB, runningStateMiB: row.runningStateBytes / MIB, stoppedStateMiB: row.stoppedStateBytes / MIB })),
      notes: [
        `Run with ${players} players (the issue asks 1M: \`--players 1000000\`).`,
        `Each repetition: RSS at the end ${rows.map((row) => (row.endRssBytes / MIB).toFixed(0)).join(', ')} MiB; RocksDB after the stop ${rows.map((row) => (row.stoppedStateBytes / MIB).toFixed(0)).join(', ')} MiB.`,
        `Engine exit codes on SIGTERM: ${rows.map((row) => String(row.stopCode)).join(', ')}.`,
        `Machine load average at start ${machine.loadAverage1m} on ${machine.cpus} CPUs.`,
      ],
    }
    printFigures(result)
    say(`wrote ${writeBenchResult(base.homeDir, result)}`)
  } finally {
    if (!args['keep-substrate']) await stopSubstrate(path.join(base.homeDir, 'bench-substrate'))
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`memory bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
