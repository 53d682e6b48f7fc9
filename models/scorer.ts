/**
 * ONNX scoring of withdrawal feature vectors, and the registry that says which model decides
 * (the champion) and which one only scores beside it (the shadow). Issue 4, item 3.
 *
 * A model is a folder `models/shipped/<model-id>/` holding `manifest.json` and the ONNX file it
 * names. Loading checks, before the model can be used:
 *   - the manifest's feature contract is the engine's (`FEATURE_CONTRACT_ID@VERSION`, same names
 *     in the same order);
 *   - the ONNX file's sha256 is the manifest's;
 *   - the session's input is named as in the manifest, float32, with one column per feature,
 *     and its outputs include the manifest's margin and probability;
 *   - the feature names written into the ONNX metadata by the trainer equal the contract's.
 * Any mismatch is a RiskError and nothing is swapped: the running champion keeps deciding.
 *
 * No I/O to Kafka or ClickHouse here: the pipeline wires scores to decisions and shadow scores to
 * their sink. Which models run, and every change to that, is `ModelService` (models/service.ts).
 *
 * Example:
 *   const registry = new ModelRegistry(systemClock)
 *   await registry.activate(await OnnxScorer.load('models/shipped/withdrawal-burst-xgb-v1'), 'alice')
 *   const { champion, shadow } = await registry.score(vectors, rows)  // probabilities per row
 *   registry.rollback('alice')                                           // previous champion back
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as ort from 'onnxruntime-node'
import type { Clock } from '../core/clock.js'
import { RiskError } from '../core/errors.js'
import { TreeExplainer, type FeatureContribution } from './explain.js'
import { FEATURE_CONTRACT_ID, FEATURE_CONTRACT_VERSION, FEATURE_COUNT, FEATURE_NAMES, type FeatureDefinition } from './features.js'
import { readOnnxModel } from './onnx-model.js'
import { OnnxSession } from './ort-session.js'

/** The parts of `manifest.json` the engine relies on (train.py writes more: training details). */
export interface ModelManifest {
  readonly modelId: string
  readonly modelVersion: string
  readonly file: string
  readonly sha256: string
  readonly input: { readonly name: string; readonly type: 'float32'; readonly shape: readonly [string, number] }
  readonly outputs: { readonly margin: string; readonly probability: string }
  readonly featureContract: { readonly id: string; readonly version: number; readonly features: readonly FeatureDefinition[] }
  readonly calibration: { readonly cutoffProbability: number; readonly targetFalsePositiveRate: number }
  readonly labels?: string
}

/** Scores of a batch, one entry per row. */
export interface BatchScores {
  readonly modelId: string
  readonly modelVersion: string
  readonly probabilities: Float32Array
  /** Log-odds, the sum the explanations decompose. */
  readonly margins: Float32Array
}

const refuse = (message: string, context: Record<string, string | number | null>): RiskError =>
  new RiskError('RISK_ERR_MODEL_MISMATCH', message, context)

/** Reads and checks a manifest's shape and its contract against the engine's feature contract. */
export function readManifest(directory: string): ModelManifest {
  const file = path.join(directory, 'manifest.json')
  let manifest: ModelManifest
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as ModelManifest
  } catch (error) {
    throw new RiskError('RISK_ERR_MODEL_MISMATCH', `cannot read model manifest ${file}: ${error instanceof Error ? error.message : String(error)}`, { file }, { cause: error })
  }
  const context = { file, modelId: typeof manifest.modelId === 'string' ? manifest.modelId : null }
  for (const field of ['modelId', 'modelVersion', 'file', 'sha256'] as const) {
    if (typeof manifest[field] !== 'string' || manifest[field] === '') throw refuse(`manifest ${file} lacks ${field}; re-export the model with models/training/train.py`, context)
  }
  const cutoff = manifest.calibration?.cutoffProbability
  if (typeof cutoff !== 'number' || !(cutoff >= 0 && cutoff <= 1)) throw refuse(`manifest ${file} has no calibrated cutoffProbability in [0, 1]`, context)
  const contract = manifest.featureContract
  if (contract?.id !== FEATURE_CONTRACT_ID || contract.version !== FEATURE_CONTRACT_VERSION) {
    throw refuse(`model ${manifest.modelId} was trained on features ${String(contract?.id)}@${String(contract?.version)}, the engine computes ${FEATURE_CONTRACT_ID}@${FEATURE_CONTRACT_VERSION}; retrain on the current contract`, context)
  }
  const names = Array.isArray(contract.features) ? contract.features.map((feature) => feature.name) : []
  if (names.length !== FEATURE_COUNT || names.some((name, index) => name !== FEATURE_NAMES[index])) {
    const first = names.findIndex((name, index) => name !== FEATURE_NAMES[index])
    throw refuse(`model ${manifest.modelId} lists ${names.length} features (first difference at column ${first}: ${String(names[first])}), the contract has ${FEATURE_COUNT}; retrain on the current contract`, context)
  }
  return manifest
}

export interface ScorerOptions {
  /** ONNX Runtime intra-op threads (default 1: the engine runs one scorer per partition process). */
  readonly intraOpNumThreads?: number
}

export class OnnxScorer {
  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: OnnxSession,
    readonly explainer: TreeExplainer,
  ) {}

  get modelId(): string { return this.manifest.modelId }
  get modelVersion(): string { return this.manifest.modelVersion }
  /** `id@version`, the way decisions and audit entries name a model. */
  get key(): string { return `${this.manifest.modelId}@${this.manifest.modelVersion}` }
  get cutoffProbability(): number { return this.manifest.calibration.cutoffProbability }

  /** Loads and checks a model folder (see the file comment); throws RISK_ERR_MODEL_MISMATCH on any mismatch. */
  static async load(directory: string, options: ScorerOptions = {}): Promise<OnnxScorer> {
    const manifest = readManifest(directory)
    const context = { directory, modelId: manifest.modelId }
    const bytes = readFileSync(path.join(directory, manifest.file))
    const digest = createHash('sha256').update(bytes).digest('hex')
    if (digest !== manifest.sha256) throw refuse(`model file ${manifest.file} of ${manifest.modelId} has sha256 ${digest}, the manifest says ${manifest.sha256}; the file and manifest come from different exports`, context)
    const parsed = readOnnxModel(bytes, path.join(directory, manifest.file))
    const onnxNames = parsed.metadata['pitboss.feature_names']
    if (onnxNames !== undefined && onnxNames !== FEATURE_NAMES.join(',')) throw refuse(`the ONNX model of ${manifest.modelId} was exported with other feature names than its manifest; re-export both together`, context)

    const session = OnnxSession.fromBytes(bytes, { intraOpNumThreads: options.intraOpNumThreads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' })
    try {
      const input = session.inputs.find((metadata) => metadata.name === manifest.input.name)
      if (session.inputs.length !== 1 || input === undefined) throw refuse(`model ${manifest.modelId} takes inputs [${session.inputs.map((metadata) => metadata.name).join(', ')}], the manifest expects exactly [${manifest.input.name}]`, context)
      if (!input.isTensor || input.type !== 'float32') throw refuse(`model ${manifest.modelId} input ${input.name} is not a float32 tensor`, context)
      const columns = input.shape[1]
      if (input.shape.length !== 2 || columns !== FEATURE_COUNT) throw refuse(`model ${manifest.modelId} takes ${String(columns)} feature columns (shape [${input.shape.join(', ')}]), the contract has ${FEATURE_COUNT}`, context)
      const outputNames = session.outputs.map((metadata) => metadata.name)
      for (const output of [manifest.outputs.margin, manifest.outputs.probability]) {
        if (!outputNames.includes(output)) throw refuse(`model ${manifest.modelId} has no output ${output} (it has ${outputNames.join(', ')})`, context)
      }
      return new OnnxScorer(manifest, session, TreeExplainer.fromOnnx(parsed, FEATURE_NAMES))
    } catch (error) {
      session.release()
      throw error
    }
  }

  /**
   * Scores `rows` vectors laid out row after row in `features` (length rows × FEATURE_COUNT).
   * One ONNX run for the whole batch: batching across the events of a partition batch is where
   * the throughput is (see bench/models.bench.ts). The run happens in this call, before it returns
   * its promise (models/ort-session.ts says why).
   */
  async score(features: Float32Array, rows: number): Promise<BatchScores> {
    if (features.length !== rows * FEATURE_COUNT) throw new RiskError('RISK_ERR_INVALID_FIELD', `a batch of ${rows} rows needs ${rows * FEATURE_COUNT} values, got ${features.length}`, { modelId: this.modelId })
    const { probability, margin } = this.manifest.outputs
    const outputs = this.session.run({ [this.manifest.input.name]: new ort.Tensor('float32', features, [rows, FEATURE_COUNT]) }, [probability, margin])
    return {
      modelId: this.modelId,
      modelVersion: this.modelVersion,
      probabilities: (outputs[probability] as ort.Tensor).data as Float32Array,
      margins: (outputs[margin] as ort.Tensor).data as Float32Array,
    }
  }

  /** Top contributions of one row (a subarray of a batch is fine). */
  explain(features: Float32Array, count = 5): FeatureContribution[] {
    return this.explainer.top(features, this.explainer.explain(features), count)
  }

  async release(): Promise<void> {
    this.session.release()
  }
}

/** One change of the registry, for the audit trail (the API/CLI persists it). */
export interface ModelAuditEntry {
  readonly atMs: number
  readonly actor: string
  readonly action: 'activate' | 'shadow' | 'clear_shadow' | 'rollback'
  readonly champion: string | null
  readonly shadow: string | null
  readonly previousChampion: string | null
}

/**
 * Champion and shadow, in memory only: the predecessor of `ModelService` (models/service.ts),
 * which persists and audits changes and shares them between processes; use that one.
 * Changes are synchronous swaps of references, so a batch scored while a
 * change happens uses one consistent pair: `score` reads both before awaiting anything.
 * Load (and check) a model with `OnnxScorer.load` first: a model that fails its checks never
 * reaches the registry, and the champion is untouched.
 */
export class ModelRegistry {
  private championScorer: OnnxScorer | null = null
  private shadowScorer: OnnxScorer | null = null
  private readonly previousChampions: OnnxScorer[] = []
  private readonly entries: ModelAuditEntry[] = []

  constructor(private readonly clock: Clock) {}

  get champion(): OnnxScorer | null { return this.championScorer }
  get shadow(): OnnxScorer | null { return this.shadowScorer }
  get audit(): readonly ModelAuditEntry[] { return this.entries }

  /** Makes `scorer` the champion; the one it replaces can come back with `rollback`. */
  activate(scorer: OnnxScorer, actor: string): void {
    const previous = this.championScorer
    if (previous !== null) this.previousChampions.push(previous)
    this.championScorer = scorer
    if (this.shadowScorer === scorer) this.shadowScorer = null
    this.record('activate', actor, previous)
  }

  /** Scores `scorer` beside the champion (or stops shadowing with null). */
  setShadow(scorer: OnnxScorer | null, actor: string): void {
    this.shadowScorer = scorer
    this.record(scorer === null ? 'clear_shadow' : 'shadow', actor, this.championScorer)
  }

  /** Brings back the champion before the last `activate`; refused when there is none. */
  rollback(actor: string): void {
    const previous = this.previousChampions.pop()
    if (previous === undefined) throw new RiskError('RISK_ERR_REQUEST_INVALID', 'there is no previous champion to roll back to', { champion: this.championScorer?.key ?? null })
    const replaced = this.championScorer
    this.championScorer = previous
    this.record('rollback', actor, replaced)
  }

  /** Scores a batch with the champion and, if any, the shadow (same rows, same call). */
  async score(features: Float32Array, rows: number): Promise<{ champion: BatchScores | null; shadow: BatchScores | null }> {
    const champion = this.championScorer
    const shadow = this.shadowScorer
    const [championScores, shadowScores] = await Promise.all([champion?.score(features, rows) ?? null, shadow?.score(features, rows) ?? null])
    return { champion: championScores, shadow: shadowScores }
  }

  private record(action: ModelAuditEntry['action'], actor: string, previousChampion: OnnxScorer | null): void {
    this.entries.push({ atMs: this.clock.nowMs(), actor, action, champion: this.championScorer?.key ?? null, shadow: this.shadowScorer?.key ?? null, previousChampion: previousChampion?.key ?? null })
  }
}
