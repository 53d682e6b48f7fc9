/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): where the samples fell, by owner (a package in
 * node_modules, a folder of this repository, node internals, GC, idle) and by function (self time),
 * plus the inclusive time of this repository's functions. Used by issue 10's profiling item:
 *
 *   PITBOSS_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx bench/e2e.bench.ts --events 200000
 *   npx tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 40] [--window processBatch] [--only-window]
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startTime: number
  readonly endTime: number
}

/** Who owns a frame: an npm package, a folder of this repository, node itself, or a V8 pseudo-frame. */
export function ownerOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return '(gc)'
    if (functionName === '(idle)') return '(idle)'
    if (functionName === '(program)') return '(program)'
    return '(native)'
  }
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url)
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0]
  const match = /\/(api|bench|cases|core|detectors|graph|infra|models|pipelines|schemas|screening|sinks)\/(.*)$/.exec(url)
  if (match !== null) return `pitboss/${match[1]}`
  return url
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length)
  const match = /\/(api|bench|cases|core|detectors|graph|infra|models|pipelines|schemas|screening|sinks)\/.*$/.exec(url)
  return match === null ? url : match[0].slice(1)
}

/**
 * A sample taken more than this long after the one before is a gap, not time spent in the frame
 * it landed on: the process was stopped (the e2e bench SIGSTOPs the engine between rounds, while
 * it makes, produces and reads the next one) or the machine froze. V8 puts the whole gap on one sample, mostly on
 * `(program)`: one 400k-event e2e profile had 9.2 s of its 23.6 s there. A starved sampler leaves
 * gaps of tens of milliseconds, which are kept.
 */
export const GAP_US = 1_000_000

const isGap = (deltaUs: number): boolean => deltaUs > GAP_US

/**
 * The span from the first to the last sample whose stack holds a function named `windowFunction`
 * (e.g. processBatch: the stretch the engine was processing), and how busy the thread was in it.
 */
function activeWindow(profile: CpuProfile, byId: ReadonlyMap<number, ProfileNode>, parent: ReadonlyMap<number, number>, windowFunction: string): { seconds: number; gapSeconds: number; busySeconds: number; firstUs: number; lastUs: number } | null {
  const inWindow = new Map<number, boolean>()
  const holds = (id: number): boolean => {
    const known = inWindow.get(id)
    if (known !== undefined) return known
    const node = byId.get(id) as ProfileNode
    const parentId = parent.get(id)
    const answer = node.callFrame.functionName === windowFunction || (parentId !== undefined && holds(parentId))
    inWindow.set(id, answer)
    return answer
  }
  let timeUs = 0
  let firstUs = -1
  let lastUs = -1
  const times: number[] = []
  for (let i = 0; i < profile.samples.length; i += 1) {
    timeUs += profile.timeDeltas[i] ?? 0
    times.push(timeUs)
    if (holds(profile.samples[i] as number)) {
      if (firstUs < 0) firstUs = timeUs
      lastUs = timeUs
    }
  }
  if (firstUs < 0) return null
  let busyUs = 0
  let gapUs = 0
  for (let i = 1; i < profile.samples.length; i += 1) {
    const at = times[i] as number
    if (at <= firstUs || at > lastUs) continue
    const deltaUs = at - (times[i - 1] as number)
    if (isGap(deltaUs)) gapUs += deltaUs
    else if ((byId.get(profile.samples[i] as number) as ProfileNode).callFrame.functionName !== '(idle)') busyUs += deltaUs
  }
  return { seconds: (lastUs - firstUs) / 1e6, gapSeconds: gapUs / 1e6, busySeconds: busyUs / 1e6, firstUs, lastUs }
}

/**
 * With `onlyWindow`, every figure counts only the samples inside the window (start-up — module
 * loading, building the screening index — is left out).
 */
export function summarise(profile: CpuProfile, top: number, windowFunction = 'processBatch', onlyWindow = false): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const window = activeWindow(profile, byId, parent, windowFunction)
  const selfUs = new Map<number, number>()
  let atUs = 0
  let gaps = 0
  let gapUs = 0
  for (let i = 0; i < profile.samples.length; i += 1) {
    const deltaUs = profile.timeDeltas[i] ?? 0
    atUs += deltaUs
    if (onlyWindow && window !== null && (atUs <= window.firstUs || atUs > window.lastUs)) continue
    if (isGap(deltaUs)) {
      gaps += 1
      gapUs += deltaUs
      continue
    }
    const id = profile.samples[i] as number
    selfUs.set(id, (selfUs.get(id) ?? 0) + deltaUs)
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const idleUs = [...selfUs.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0)
  const busyUs = totalUs - idleUs
  const owners = new Map<string, number>()
  const functions = new Map<string, number>()
  const inclusive = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id) as ProfileNode
    const frame = node.callFrame
    const owner = ownerOf(frame.url, frame.functionName)
    owners.set(owner, (owners.get(owner) ?? 0) + us)
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    functions.set(name, (functions.get(name) ?? 0) + us)
    // inclusive: every distinct repository frame on the stack gets the sample once
    const seen = new Set<string>()
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const f = (byId.get(cursor) as ProfileNode).callFrame
      if (!ownerOf(f.url, f.functionName).startsWith('pitboss/')) continue
      const key = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + us)
    }
  }
  const pct = (us: number, of: number): string => `${((100 * us) / of).toFixed(1).padStart(5)}%`
  const lines: string[] = []
  lines.push(`profile: ${(totalUs / 1e6).toFixed(1)} s sampled${onlyWindow ? ` (only the ${windowFunction} window)` : ''}, ${(busyUs / 1e6).toFixed(1)} s busy (not idle)`)
  if (gaps > 0) lines.push(`not counted: ${gaps} gap(s) over ${GAP_US / 1e6} s between samples, ${(gapUs / 1e6).toFixed(1)} s in all (the process stopped, e.g. frozen by the e2e bench between rounds)`)
  if (window !== null) {
    const runningSeconds = window.seconds - window.gapSeconds
    lines.push(`from the first to the last sample in ${windowFunction}: ${window.seconds.toFixed(1)} s${window.gapSeconds > 0 ? ` (${runningSeconds.toFixed(1)} s without the gaps)` : ''}, busy ${window.busySeconds.toFixed(1)} s (${((100 * window.busySeconds) / runningSeconds).toFixed(0)}%)`)
  }
  lines.push('', 'self time by owner (share of busy time):')
  for (const [owner, us] of [...owners].filter(([o]) => o !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us, busyUs)}  ${(us / 1e6).toFixed(2).padStart(7)} s  ${owner}`)
  lines.push('', 'self time by function (share of busy time):')
  for (const [name, us] of [...functions].filter(([n]) => !n.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us, busyUs)}  ${name}`)
  lines.push('', "inclusive time of this repository's functions (share of busy time):")
  for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us, busyUs)}  ${name}`)
  return lines.join('\n')
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)
if (isMain) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, window: { type: 'string', default: 'processBatch' }, 'only-window': { type: 'boolean', default: false } } })
  if (positionals.length === 0) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile>... [--top 30] [--window processBatch] [--only-window]')
    process.exit(2)
  }
  for (const file of positionals) {
    console.log(`== ${file}`)
    console.log(summarise(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, Number(values.top), values.window, values['only-window']))
    console.log('')
  }
}
