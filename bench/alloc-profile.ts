/**
 * Where the engine's code allocates (issue 10: GC is ~12% of the engine's thread). Replays
 * simulated events without a broker (bench/replay.ts: the same codec, decoder, partition tasks,
 * detectors and screening as the engine) under V8's sampling heap profiler, counting the objects
 * GC has already collected too, and prints bytes allocated per event by function (self) and by
 * this repository's functions (inclusive). The replay driver's own allocations (memory-driver.ts,
 * replay.ts) are in the total; kafkajs's are not (no broker).
 *
 *   npx tsx bench/alloc-profile.ts [--events 200000] [--warmup 20000] [--interval 4096] [--top 30] [--survivors] [--out FILE.heapprofile]
 *
 * `--survivors` counts only what outlived a scavenge (V8's `includeObjectsCollectedByMinorGC:
 * false`): what the young generation's collections copy, which sets how long they pause.
 *
 * The .heapprofile opens in Chrome DevTools (Memory tab, Load).
 */
import fs from 'node:fs'
import path from 'node:path'
import { Session } from 'node:inspector/promises'
import { parseArgs } from 'node:util'
import { loadConfig } from '../core/config.js'
import { loadScreenFunction } from '../screening/screen-function.js'
import { simulatedEvents } from './lib/harness.js'
import { ownerOf } from './profile-summary.js'
import { replayEvents } from './replay.js'

interface HeapNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number }
  readonly selfSize: number
  readonly children: readonly HeapNode[]
}

const { values: args } = parseArgs({ options: {
  events: { type: 'string', default: '200000' }, warmup: { type: 'string', default: '20000' }, interval: { type: 'string', default: '4096' },
  top: { type: 'string', default: '30' }, survivors: { type: 'boolean', default: false }, out: { type: 'string' },
} })

const frameName = (frame: HeapNode['callFrame']): string => `${frame.functionName || '(anonymous)'} ${path.basename(frame.url)}:${frame.columnNumber}`

/** Bytes by function (self), and by this repository's functions on the stack (each counted once per sample). */
function allocationTable(head: HeapNode): { totalBytes: number; self: Map<string, number>; inclusive: Map<string, number> } {
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let totalBytes = 0
  const walk = (node: HeapNode, stack: readonly string[]): void => {
    const name = frameName(node.callFrame)
    const repository = ownerOf(node.callFrame.url, node.callFrame.functionName).startsWith('pitboss/')
    const here = repository && !stack.includes(name) ? [...stack, name] : stack
    if (node.selfSize > 0) {
      totalBytes += node.selfSize
      self.set(name, (self.get(name) ?? 0) + node.selfSize)
      for (const frame of here) inclusive.set(frame, (inclusive.get(frame) ?? 0) + node.selfSize)
    }
    for (const child of node.children) walk(child, here)
  }
  walk(head, [])
  return { totalBytes, self, inclusive }
}

async function main(): Promise<void> {
  const config = loadConfig()
  const count = Number(args.events)
  const events = simulatedEvents(7, count + Number(args.warmup), config.referenceDataDir)
  const screening = await loadScreenFunction(config.screening.listsDir)
  const screen = screening?.screen ?? null
  // Warm-up: compiled code and the codec's caches, as a running engine has them.
  await replayEvents(events.slice(count), { partitions: 8, screen })
  const session = new Session()
  session.connect()
  await session.post('HeapProfiler.startSampling', { samplingInterval: Number(args.interval), includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !args.survivors } as never)
  await replayEvents(events.slice(0, count), { partitions: 8, screen })
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } }
  session.disconnect()
  if (args.out !== undefined) fs.writeFileSync(args.out, JSON.stringify(profile))
  const { totalBytes, self, inclusive } = allocationTable(profile.head)
  const top = Number(args.top)
  const perEvent = (bytes: number): string => `${(bytes / count).toFixed(0).padStart(6)} B/event  ${((100 * bytes) / totalBytes).toFixed(1).padStart(5)}%`
  const what = args.survivors ? 'outlived a scavenge' : 'allocated'
  console.log(`${count} events replayed: ${(totalBytes / 2 ** 20).toFixed(0)} MiB ${what} (sampled), ${(totalBytes / count).toFixed(0)} bytes per event`)
  console.log('\nself, by function:')
  for (const [name, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${perEvent(bytes)}  ${name}`)
  console.log("\ninclusive, this repository's functions:")
  for (const [name, bytes] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${perEvent(bytes)}  ${name}`)
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)
if (isMain) await main()
