/**
 * Link-graph benchmark (issue 5): AMLSim precision/recall of the money-flow typologies, then a
 * generated (seeded) player–identifier graph of 1M nodes / 2M edges at scale 1: microseconds
 * per incremental link, memory per node and edge, Louvain and recompute time, each beside a
 * baseline measured in the same run (a bare graphology build of the same graph, and Louvain on
 * it). Timings are medians over --repetitions.
 *
 * Run: node --expose-gc --max-old-space-size=8192 --import tsx bench/graph.bench.ts [--scale 0.2] [--repetitions 3] [--seed 7] [--skip-amlsim]
 * (--expose-gc makes the memory figures meaningful: the heap is collected before each reading.)
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../core/config.js'
import graphologyModule from 'graphology'
import louvainModule from 'graphology-communities-louvain'
import { AMLSIM_EVALUATION_PARAMS, loadAmlSim, readAmlSim, scoreTypology } from '../graph/amlsim.js'
import { LinkGraph } from '../graph/link-graph.js'
import { seededRandom } from '../core/seeded-random.js'
import type { IdentifierType, LinkEvent, TypologyId } from '../graph/types.js'

type GraphClass = typeof graphologyModule.default
const Graph = ((graphologyModule as unknown as { default?: GraphClass }).default ?? graphologyModule) as GraphClass
type Louvain = typeof louvainModule.default
const louvain = ((louvainModule as unknown as { default?: Louvain }).default ?? louvainModule) as Louvain

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    repetitions: { type: 'string', default: '3' },
    seed: { type: 'string', default: '7' },
    'skip-amlsim': { type: 'boolean', default: false },
    'aml-folder': { type: 'string', default: path.join(loadConfig().referenceDataDir, 'aml') },
  },
})
const say = (line: string): void => void process.stdout.write(`${line}\n`)
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
const collect = (): void => { (globalThis as { gc?: () => void }).gc?.() }
const memory = (): { heapBytes: number; rssBytes: number } => { collect(); const usage = process.memoryUsage(); return { heapBytes: usage.heapUsed, rssBytes: usage.rss } }
const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const fixed = (value: number, digits = 2): string => value.toFixed(digits)

function amlsim(): void {
  say('== AMLSim: account-level precision / recall (one step = one day) ==')
  const rows: Array<[string, string, TypologyId[]]> = [
    ['amlsim-20k-cycle', 'defaults', ['cycle', 'fan_in', 'fan_out', 'scatter_gather']],
    ['amlsim-20k-cycle', 'cycleTuned', ['cycle']],
    ['amlsim-20k-fanin', 'defaults', ['cycle', 'fan_in', 'fan_out', 'scatter_gather']],
    ['amlsim-20k-fanin', 'fanInTuned', ['fan_in']],
  ]
  for (const [dataset, paramsName, typologies] of rows) {
    const run = readAmlSim(`${args['aml-folder']}/${dataset}`)
    const graph = new LinkGraph(AMLSIM_EVALUATION_PARAMS[paramsName as keyof typeof AMLSIM_EVALUATION_PARAMS])
    const started = performance.now()
    loadAmlSim(graph, run)
    const loaded = performance.now()
    const result = graph.recompute()
    const done = performance.now()
    say(`${dataset} params=${paramsName}: ${run.transfers.length} transfers, ${run.fraudAccounts.size} fraud accounts; load ${fixed(loaded - started, 0)} ms, recompute ${fixed(done - loaded, 0)} ms`)
    for (const typology of typologies) {
      const score = scoreTypology(result.alerts, typology, run.fraudAccounts)
      say(`  ${typology.padEnd(15)} alerts ${String(score.alerts).padStart(5)}  flagged ${String(score.flaggedAccounts).padStart(5)}  precision ${fixed(score.precision, 3)}  recall ${fixed(score.recall, 3)}`)
    }
  }
}

/** A seeded player–identifier graph: most identifiers are held by one or two players, a few are shared widely (IP blocks, farms). */
function generateLinks(scale: number, seed: number): { links: LinkEvent[]; players: number; identifiers: number } {
  const random = seededRandom(seed)
  const players = Math.round(600_000 * scale)
  const identifiers = Math.round(400_000 * scale)
  const edges = Math.round(2_000_000 * scale)
  const types: IdentifierType[] = ['device', 'card', 'wallet', 'email', 'phone', 'ip_block']
  const links: LinkEvent[] = []
  // Every identifier gets one holder first (no orphans), then the rest are drawn with a skew towards low ids.
  for (let identifier = 0; identifier < identifiers; identifier++) {
    links.push({ playerId: `p${Math.floor(random() * players)}`, identifierType: types[identifier % types.length] as IdentifierType, identifier: `i${identifier}`, eventTimeMs: links.length })
  }
  for (let player = 0; links.length < edges; player = (player + 1) % players) {
    const identifier = Math.floor(identifiers * random() ** 2)
    links.push({ playerId: `p${player}`, identifierType: types[identifier % types.length] as IdentifierType, identifier: `i${identifier}`, eventTimeMs: links.length })
  }
  return { links, players, identifiers }
}

interface BaselineRun { buildMs: number; louvainMs: number; heapPerNode: number; heapPerEdge: number; rssBytes: number }
interface LinkGraphRun { microsPerLink: number; recomputeMs: number; heapPerNode: number; heapPerEdge: number; rssBytes: number; info: string }

// Each run is its own function so its graph is unreachable (no stale stack slot) when the next one measures memory.
function baselineRun(links: readonly LinkEvent[], players: number, identifiers: number): BaselineRun {
  const before = memory()
  const started = performance.now()
  const bare = new Graph({ type: 'undirected', multi: false, allowSelfLoops: false })
  for (let player = 0; player < players; player++) bare.addNode(`p:p${player}`)
  const nodesMs = performance.now() - started // before the forced GC of memory()
  const nodesBuilt = memory()
  const edgesStarted = performance.now()
  for (const link of links) {
    const identifierKey = `i:${link.identifierType}:${link.identifier}`
    if (!bare.hasNode(identifierKey)) bare.addNode(identifierKey)
    bare.mergeEdge(`p:${link.playerId}`, identifierKey, { weight: 1 })
  }
  const buildMs = nodesMs + (performance.now() - edgesStarted)
  const built = memory()
  const heapPerNode = (nodesBuilt.heapBytes - before.heapBytes) / players
  const heapPerEdge = (built.heapBytes - nodesBuilt.heapBytes - identifiers * heapPerNode) / bare.size
  const louvainStarted = performance.now()
  louvain.assign(bare, { getEdgeWeight: 'weight', rng: seededRandom(1) })
  return { buildMs, louvainMs: performance.now() - louvainStarted, heapPerNode, heapPerEdge, rssBytes: built.rssBytes - before.rssBytes }
}

function linkGraphRun(links: readonly LinkEvent[], players: number): LinkGraphRun {
  const before = memory()
  const graph = new LinkGraph({ seed: 1 })
  for (let player = 0; player < players; player++) graph.setPlayerFlags(`p${player}`, {})
  const nodesBuilt = memory()
  const started = performance.now()
  for (const link of links) graph.addLink(link)
  const microsPerLink = (performance.now() - started) * 1000 / links.length
  const built = memory()
  const counts = graph.counts()
  const heapPerNode = (nodesBuilt.heapBytes - before.heapBytes) / players
  const heapPerEdge = (built.heapBytes - nodesBuilt.heapBytes - counts.identifiers * heapPerNode) / counts.links
  const recomputeStarted = performance.now()
  const result = graph.recompute()
  const recomputeMs = performance.now() - recomputeStarted
  const info = `${result.componentsRecomputed} components, ${result.alerts.length} alerts, component of p0: ${graph.clusterOf('p0')?.size ?? 0} players`
  return { microsPerLink, recomputeMs, heapPerNode, heapPerEdge, rssBytes: built.rssBytes - before.rssBytes, info }
}

function scaleRun(): void {
  const scale = Number(args.scale)
  const repetitions = Number(args.repetitions)
  const { links, players, identifiers } = generateLinks(scale, Number(args.seed))
  const nodes = players + identifiers
  say(`== generated graph: scale ${scale} -> ${players} players + ${identifiers} identifiers = ${nodes} nodes, ${links.length} link events; ${repetitions} repetitions (medians) ==`)
  if ((globalThis as { gc?: () => void }).gc === undefined) say('note: run with node --expose-gc for memory figures that exclude garbage')
  const baselines: BaselineRun[] = []
  const runs: LinkGraphRun[] = []
  for (let repetition = 0; repetition < repetitions; repetition++) {
    baselines.push(baselineRun(links, players, identifiers))
    runs.push(linkGraphRun(links, players))
  }
  const of = <T>(items: readonly T[], pick: (item: T) => number): number => median(items.map(pick))
  say(`baseline graphology build (undirected, same graph): ${fixed(of(baselines, (run) => run.buildMs), 0)} ms = ${fixed(of(baselines, (run) => run.buildMs) * 1000 / links.length)} µs/link; heap ${fixed(of(baselines, (run) => run.heapPerNode), 0)} B/node, ${fixed(of(baselines, (run) => run.heapPerEdge), 0)} B/edge; RSS +${megabytes(of(baselines, (run) => run.rssBytes))}`)
  say(`LinkGraph.addLink (incremental: validation, graphology mixed graph, union-find): ${fixed(of(runs, (run) => run.microsPerLink))} µs/link; heap ${fixed(of(runs, (run) => run.heapPerNode), 0)} B/node, ${fixed(of(runs, (run) => run.heapPerEdge), 0)} B/edge; RSS +${megabytes(of(runs, (run) => run.rssBytes))}`)
  say(`baseline Louvain (graphology-communities-louvain on the whole bare graph, seeded): ${fixed(of(baselines, (run) => run.louvainMs), 0)} ms`)
  say(`LinkGraph.recompute (per component: Louvain + personalized PageRank + all typologies): ${fixed(of(runs, (run) => run.recomputeMs), 0)} ms (${runs[0]?.info ?? ''})`)
  say(`peak RSS ${megabytes(process.resourceUsage().maxRSS * 1024)}`)
}

if (!args['skip-amlsim']) amlsim()
scaleRun()
