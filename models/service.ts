/**
 * The model service the engine holds (and the API and CLI use to change models): scores
 * withdrawal feature vectors with the champion and every shadow, explains them, and applies
 * deployment changes without a restart (issue 4, item 3).
 *
 * - Scoring reads one immutable snapshot of the loaded models before it awaits anything, so a
 *   call in flight during a swap finishes on the models it started with; a replaced model's
 *   ONNX session is released only after its last call returns.
 * - A change (`activate`, `shadow`, `unshadow`, `rollback`, `upload`) first loads every model of
 *   the new deployment with `OnnxScorer.load` (manifest, feature contract, sha256, session shape);
 *   a mismatch is refused with RISK_ERR_MODEL_MISMATCH, nothing is written and the running
 *   champion keeps deciding. Then the deployment file is written atomically with an audit entry
 *   (models/deployment.ts), then the snapshot is swapped.
 * - Several processes share the deployment file. A change is based on the file as it is on disk
 *   (not on this process's memory) and is redone if the file changed while the models loaded;
 *   the window left between that last check and the rename is microseconds, not a lock.
 *   `reloadIfChanged()` (the engine calls it on a timer) picks up changes made elsewhere.
 *
 * Example:
 *   const service = await loadModelService({ modelsDir, deploymentFile, clock: systemClock, logger,
 *     defaultChampion: SHIPPED_MODEL_FOLDER })
 *   const scored = await service.scoreOne(extractFeatures(player, withdrawal))
 *   scored.champion  // { modelId: 'withdrawal-typology-xgb', modelVersion: '2.0.0', score: 0.98, cutoff: 0.0054,
 *                    //   aboveCutoff: true, contributions: [{ feature: 'wagering_to_deposit_ratio_48h', contribution: 3.1 }, …] }
 *   await service.activate('withdrawal-typology-xgb-v3', 'alice')   // audited, written, swapped
 *   setInterval(() => { service.reloadIfChanged().catch(reportError) }, 5_000)  // in the engine
 */
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { Clock } from '../core/clock.js'
import { RiskError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import {
  checkFolderName, parseDeployment, planChange, readDeployment, readDeploymentText, sameState, writeDeploymentAtomically,
  type Deployment, type DeploymentAction, type DeploymentAuditEntry, type DeploymentState,
} from './deployment.js'
import { FEATURE_COUNT } from './features.js'
import { OnnxScorer, readManifest, type ScorerOptions } from './scorer.js'

/**
 * The folder of the models shipped with the repository, and the shipped default champion in it:
 * trained on the simulator's planted typologies (docs/models.md). The first model,
 * `withdrawal-burst-xgb-v1` (fixture burst labels), stays beside it and remains loadable.
 */
export const SHIPPED_MODELS_DIRECTORY = new URL('./shipped/', import.meta.url).pathname
export const SHIPPED_MODEL_FOLDER = 'withdrawal-typology-xgb-v2'

/** One model's verdict on one withdrawal. */
export interface ModelScore {
  readonly modelId: string
  readonly modelVersion: string
  /** The probability, as the float64 holding the model's float32 output exactly. */
  readonly score: number
  /** The manifest's calibrated cut-off probability. */
  readonly cutoff: number
  /** `score >= cutoff` (the calibration flags at or above the cut-off). */
  readonly aboveCutoff: boolean
  /** The largest contributions to the margin (log-odds), by absolute value, largest first. */
  readonly contributions: ReadonlyArray<{ readonly feature: string; readonly contribution: number }>
}

/** Champion (null when none is deployed) and shadows, scored on the same vector. */
export interface ScoredWithdrawal {
  readonly champion: ModelScore | null
  readonly shadows: readonly ModelScore[]
}

export interface DeployedModel {
  /** The folder under the models directory: the name `activate`, `shadow` and the deployment file use. */
  readonly folder: string
  readonly modelId: string
  readonly modelVersion: string
}

export interface CurrentModels {
  readonly champion: DeployedModel | null
  readonly shadows: readonly DeployedModel[]
}

export interface ModelServiceOptions {
  /** Holds one folder per model: `<modelsDir>/<folder>/manifest.json` and its ONNX file. */
  readonly modelsDir: string
  /** The shared deployment file, e.g. `<state>/models/deployment.json`; created at the first change. */
  readonly deploymentFile: string
  readonly clock: Clock
  readonly logger: Logger
  /** The champion while the deployment file does not exist (the shipped model, or null for none). Default null. */
  readonly defaultChampion?: string | null
  /** How many contributions each score carries (default 5). */
  readonly topContributions?: number
  /**
   * What to do at start when a model the deployment names does not load: 'refuse' (default; the
   * engine must not start without the champion it was told to run) or 'skip' (the CLI, which must
   * still be able to roll back or activate away from a broken model).
   */
  readonly unloadableAtStart?: 'refuse' | 'skip'
  readonly scorerOptions?: ScorerOptions
}

/** A loaded model and the calls scoring on it, so a retired one is released only once idle. */
class LoadedModel {
  private inFlight = 0
  private retired = false
  private releasing: Promise<void> | null = null
  private markReleased: () => void = () => undefined
  /** Settles once the session is released (after the last call, when retired). */
  readonly released = new Promise<void>((resolve) => { this.markReleased = resolve })

  constructor(readonly folder: string, readonly scorer: OnnxScorer, private readonly logger: Logger) {}

  get deployed(): DeployedModel {
    return { folder: this.folder, modelId: this.scorer.modelId, modelVersion: this.scorer.modelVersion }
  }

  enter(): void {
    this.inFlight += 1
  }

  leave(): void {
    this.inFlight -= 1
    if (this.retired && this.inFlight === 0) this.release()
  }

  /** Releases the session now, or after the last call scoring on it. */
  retire(): void {
    this.retired = true
    if (this.inFlight === 0) this.release()
  }

  private release(): void {
    // A failed release leaks a session's memory but loses no data: log it, do not stop scoring.
    this.releasing ??= this.scorer.release()
      .catch((error: unknown) => { this.logger.warn({ err: error, folder: this.folder }, 'releasing a retired ONNX session failed') })
      .finally(() => this.markReleased())
  }
}

interface Snapshot {
  readonly champion: LoadedModel | null
  readonly shadows: readonly LoadedModel[]
}

const EMPTY_SNAPSHOT: Snapshot = { champion: null, shadows: [] }

const stateOf = (snapshot: Snapshot): DeploymentState => ({ champion: snapshot.champion?.folder ?? null, shadows: snapshot.shadows.map((model) => model.folder) })

const describeState = (state: DeploymentState): string => `champion ${state.champion ?? 'none'}, shadows [${state.shadows.join(', ')}]`

/** How often a change is redone when another process keeps writing the file meanwhile. */
const CHANGE_ATTEMPTS = 5

export class ModelService {
  private snapshot: Snapshot = EMPTY_SNAPSHOT
  /** The file's text when last read or written here (null: absent); `reloadIfChanged` compares with it. */
  private seenText: string | null = null
  private lastRead: Deployment | null = null
  /** Changes and reloads run one at a time in this process. */
  private queue: Promise<unknown> = Promise.resolve()
  private readonly topContributions: number

  private constructor(private readonly options: ModelServiceOptions) {
    this.topContributions = options.topContributions ?? 5
  }

  /** Reads the deployment file and loads its models; see `loadModelService`. */
  static async load(options: ModelServiceOptions): Promise<ModelService> {
    const service = new ModelService(options)
    const { deployment, text } = readDeployment(options.deploymentFile, options.defaultChampion ?? null)
    const wanted = { champion: deployment.champion, shadows: deployment.shadows }
    if (options.unloadableAtStart === 'skip') {
      const champion = wanted.champion === null ? null : await service.tryLoad(wanted.champion)
      const shadows: LoadedModel[] = []
      for (const folder of wanted.shadows) {
        const loaded = await service.tryLoad(folder)
        if (loaded !== null) shadows.push(loaded)
      }
      service.snapshot = { champion, shadows }
    } else {
      service.snapshot = (await service.loadState(wanted)).snapshot
    }
    service.seenText = text
    service.lastRead = deployment
    options.logger.info({ deploymentFile: options.deploymentFile, ...stateOf(service.snapshot) }, 'models loaded')
    return service
  }

  /** What decides and what shadows right now in this process (for the API's status). */
  current(): CurrentModels {
    const { champion, shadows } = this.snapshot
    return { champion: champion?.deployed ?? null, shadows: shadows.map((model) => model.deployed) }
  }

  /** The audit trail as last read or written by this process, oldest first. */
  history(): readonly DeploymentAuditEntry[] {
    return this.lastRead?.history ?? []
  }

  /** Folders under the models directory that hold a manifest (loadable or not). */
  available(): string[] {
    if (!existsSync(this.options.modelsDir)) return []
    return readdirSync(this.options.modelsDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && existsSync(path.join(this.options.modelsDir, entry.name, 'manifest.json')))
      .map((entry) => entry.name)
      .sort()
  }

  /**
   * Scores one withdrawal's feature vector (contract order, NaN = missing) with the champion and
   * every shadow. Example: `(await service.scoreOne(vector)).champion?.aboveCutoff`.
   */
  async scoreOne(features: Float32Array): Promise<ScoredWithdrawal> {
    return (await this.scoreBatch([features]))[0] as ScoredWithdrawal
  }

  /**
   * Scores the withdrawals of one batch: ONE ONNX run per model for all rows (that is where the
   * throughput is, see bench/models.bench.ts), then each row's explanation. Result i is row i's.
   */
  async scoreBatch(rows: readonly Float32Array[]): Promise<ScoredWithdrawal[]> {
    rows.forEach((row, index) => {
      if (row.length !== FEATURE_COUNT) throw new RiskError('RISK_ERR_INVALID_FIELD', `feature vector ${index} has ${row.length} values, the contract has ${FEATURE_COUNT}; build it with extractFeatures`, { row: index })
    })
    // Read the snapshot once, before any await: a swap from here on does not affect this call.
    const { champion, shadows } = this.snapshot
    if (rows.length === 0) return []
    const models = champion === null ? shadows : [champion, ...shadows]
    if (models.length === 0) return rows.map(() => ({ champion: null, shadows: [] }))
    const matrix = new Float32Array(rows.length * FEATURE_COUNT)
    rows.forEach((row, index) => matrix.set(row, index * FEATURE_COUNT))
    for (const model of models) model.enter()
    try {
      const batches = await Promise.all(models.map((model) => model.scorer.score(matrix, rows.length)))
      return rows.map((row, index) => {
        const scores = models.map((model, position) => this.toScore(model.scorer, (batches[position] as { probabilities: Float32Array }).probabilities[index] as number, row))
        return champion === null ? { champion: null, shadows: scores } : { champion: scores[0] as ModelScore, shadows: scores.slice(1) }
      })
    } finally {
      for (const model of models) model.leave()
    }
  }

  /** Makes `folder` the champion (it stops shadowing if it did). Null when it already is. */
  activate(folder: string, actor: string): Promise<DeploymentAuditEntry | null> {
    return this.change('activate', folder, actor)
  }

  /** Scores `folder` beside the champion; its scores go to the shadow store, never into decisions. */
  shadow(folder: string, actor: string): Promise<DeploymentAuditEntry | null> {
    return this.change('shadow', folder, actor)
  }

  unshadow(folder: string, actor: string): Promise<DeploymentAuditEntry | null> {
    return this.change('unshadow', folder, actor)
  }

  /** Brings back the champion the last activate replaced (repeatable, like an undo stack). */
  rollback(actor: string): Promise<DeploymentAuditEntry> {
    return this.change('rollback', null, actor) as Promise<DeploymentAuditEntry>
  }

  /**
   * Copies a model folder into the models directory under its own name, after checking it loads
   * (RISK_ERR_MODEL_MISMATCH otherwise). Folders are never overwritten: a deployed name always
   * means the same bytes, so a new export needs a new folder name.
   */
  async upload(sourceFolder: string, actor: string): Promise<DeploymentAuditEntry> {
    const folder = checkFolderName(path.basename(path.resolve(sourceFolder)))
    const destination = path.join(this.options.modelsDir, folder)
    if (existsSync(destination)) throw new RiskError('RISK_ERR_REQUEST_INVALID', `a model folder ${folder} already exists in ${this.options.modelsDir}; deployed folders are never overwritten, rename the new export`, { folder })
    const checked = await OnnxScorer.load(sourceFolder, this.options.scorerOptions)
    await checked.release()
    // Copy beside the destination and rename, so no process ever sees a half-copied folder.
    const staging = path.join(this.options.modelsDir, `.upload-${folder}-${process.pid}`)
    rmSync(staging, { recursive: true, force: true })
    try {
      cpSync(sourceFolder, staging, { recursive: true })
      renameSync(staging, destination)
    } catch (error) {
      rmSync(staging, { recursive: true, force: true })
      throw new RiskError('RISK_ERR_REQUEST_INVALID', `cannot copy ${sourceFolder} into ${this.options.modelsDir}: ${(error as Error).message}`, { folder }, { cause: error })
    }
    return this.change('upload', folder, actor) as Promise<DeploymentAuditEntry>
  }

  /**
   * Re-reads the deployment file and, when another process changed who decides or shadows,
   * loads and swaps in the new models. Returns true when the running models changed.
   * A new deployment that does not load throws RISK_ERR_MODEL_MISMATCH once (the running models
   * keep scoring) and is not retried until the file changes again.
   */
  reloadIfChanged(): Promise<boolean> {
    return this.serialized(async () => {
      const text = readDeploymentText(this.options.deploymentFile)
      if (text === this.seenText) return false
      // Seen before parsing: a malformed file is reported once, not on every tick.
      this.seenText = text
      const { deployment } = parseDeployment(this.options.deploymentFile, text, this.options.defaultChampion ?? null)
      this.lastRead = deployment
      const wanted = { champion: deployment.champion, shadows: deployment.shadows }
      const before = stateOf(this.snapshot)
      if (sameState(before, wanted)) return false
      let loaded: { snapshot: Snapshot; fresh: LoadedModel[] }
      try {
        loaded = await this.loadState(wanted)
      } catch (error) {
        this.options.logger.error({ err: error, wanted, running: before }, 'the deployment file names a model that does not load here; the running models keep scoring')
        throw error
      }
      this.install(loaded.snapshot)
      this.options.logger.info({ before, after: wanted, changedBy: deployment.changedBy }, 'models changed by another process')
      return true
    })
  }

  /** Releases every session once its calls are done. The service scores nothing afterwards. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined)
    const models = [this.snapshot.champion, ...this.snapshot.shadows].filter((model): model is LoadedModel => model !== null)
    this.snapshot = EMPTY_SNAPSHOT
    for (const model of models) model.retire()
    await Promise.all(models.map((model) => model.released))
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work)
    this.queue = result.catch(() => undefined)
    return result
  }

  private change(action: DeploymentAction, folder: string | null, actor: string): Promise<DeploymentAuditEntry | null> {
    if (actor.trim() === '') return Promise.reject(new RiskError('RISK_ERR_REQUEST_INVALID', 'a model change needs an actor (who is changing it) for the audit trail', { action }))
    return this.serialized(async () => {
      for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt += 1) {
        // Base the change on the file as it is now: another process may have changed it.
        const { deployment, text } = readDeployment(this.options.deploymentFile, this.options.defaultChampion ?? null)
        const plan = planChange(deployment, action, folder)
        if (plan === null) return null
        // An upload changes nothing that scores, so it loads nothing (and works beside a broken champion).
        const loaded = action === 'upload' ? null : await this.loadState(plan.after, plan.folder)
        if (readDeploymentText(this.options.deploymentFile) !== text) {
          for (const model of loaded?.fresh ?? []) model.retire()
          continue
        }
        const identity = this.identity(plan.folder)
        const atMs = this.options.clock.nowMs()
        const entry: DeploymentAuditEntry = {
          atMs, actor, action, folder: plan.folder, ...identity,
          before: { champion: deployment.champion, shadows: deployment.shadows }, after: plan.after,
        }
        const next: Deployment = { ...plan.after, changedBy: actor, changedAtMs: atMs, history: [...deployment.history, entry] }
        try {
          this.seenText = writeDeploymentAtomically(this.options.deploymentFile, next)
        } catch (error) {
          for (const model of loaded?.fresh ?? []) model.retire()
          throw error
        }
        this.lastRead = next
        if (loaded !== null) this.install(loaded.snapshot)
        this.options.logger.info({ action, folder: plan.folder, model: identity.model, actor, before: entry.before, after: entry.after }, `models: ${action} ${plan.folder}: ${describeState(entry.after)}`)
        return entry
      }
      throw new RiskError('RISK_ERR_REQUEST_INVALID', `the deployment file ${this.options.deploymentFile} kept changing while ${action} was applied; retry`, { action })
    })
  }

  /**
   * What the audit entry names: `id@version` and sha256 from the folder's manifest. Read without
   * loading the model, so a broken model can still be unshadowed or rolled away from.
   */
  private identity(folder: string): { model: string; sha256: string } {
    try {
      const manifest = readManifest(this.folderPath(folder))
      return { model: `${manifest.modelId}@${manifest.modelVersion}`, sha256: manifest.sha256 }
    } catch (error) {
      this.options.logger.warn({ err: error, folder }, 'the manifest of a model being changed cannot be read; audited as unreadable')
      return { model: 'unreadable', sha256: '' }
    }
  }

  private folderPath(folder: string): string {
    const directory = path.join(this.options.modelsDir, checkFolderName(folder))
    if (!existsSync(path.join(directory, 'manifest.json'))) {
      throw new RiskError('RISK_ERR_REQUEST_INVALID', `no model folder ${folder} in ${this.options.modelsDir} (there are: ${this.available().join(', ') || 'none'}); upload it first`, { folder })
    }
    return directory
  }

  /**
   * Loaded models for `state`: the ones already running are reused, the others loaded (and so
   * checked). `reload` is loaded afresh even when running: the model a change names is checked
   * again. All or nothing: if one fails, the ones just loaded are released and the error thrown.
   */
  private async loadState(state: DeploymentState, reload?: string): Promise<{ snapshot: Snapshot; fresh: LoadedModel[] }> {
    const running = new Map([this.snapshot.champion, ...this.snapshot.shadows].filter((model): model is LoadedModel => model !== null).map((model) => [model.folder, model]))
    const fresh: LoadedModel[] = []
    const get = async (folder: string): Promise<LoadedModel> => {
      const reused = folder === reload ? undefined : running.get(folder)
      if (reused !== undefined) return reused
      const model = new LoadedModel(folder, await OnnxScorer.load(this.folderPath(folder), this.options.scorerOptions), this.options.logger)
      fresh.push(model)
      return model
    }
    try {
      const champion = state.champion === null ? null : await get(state.champion)
      const shadows: LoadedModel[] = []
      for (const folder of state.shadows) shadows.push(await get(folder))
      return { snapshot: { champion, shadows }, fresh }
    } catch (error) {
      for (const model of fresh) model.retire()
      throw error
    }
  }

  private async tryLoad(folder: string): Promise<LoadedModel | null> {
    try {
      return (await this.loadState({ champion: folder, shadows: [] })).snapshot.champion
    } catch (error) {
      this.options.logger.warn({ err: error, folder }, 'a deployed model does not load; starting without it')
      return null
    }
  }

  /** Swaps the snapshot (one assignment: scoring sees the old pair or the new one) and retires what left. */
  private install(next: Snapshot): void {
    const previous = this.snapshot
    this.snapshot = next
    const kept = new Set([next.champion, ...next.shadows])
    for (const model of [previous.champion, ...previous.shadows]) if (model !== null && !kept.has(model)) model.retire()
  }

  private toScore(scorer: OnnxScorer, probability: number, row: Float32Array): ModelScore {
    const cutoff = scorer.cutoffProbability
    return {
      modelId: scorer.modelId,
      modelVersion: scorer.modelVersion,
      score: probability,
      cutoff,
      aboveCutoff: probability >= cutoff,
      contributions: scorer.explain(row, this.topContributions).map(({ feature, contribution }) => ({ feature, contribution })),
    }
  }
}

/**
 * Reads the deployment file (or starts from `defaultChampion` when there is none) and loads its
 * models; refuses with RISK_ERR_MODEL_MISMATCH when one does not load (unless
 * `unloadableAtStart: 'skip'`). Example: see the file comment.
 */
export function loadModelService(options: ModelServiceOptions): Promise<ModelService> {
  return ModelService.load(options)
}
