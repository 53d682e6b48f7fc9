/**
 * The engine's processing parts, built from a config: the rule set (hot-reloaded when its file
 * changes), the sanctions lists (reloaded when the folder changes), the models (the deployment
 * file re-read on a timer), the schema codec, the RocksDB state and the event processor.
 *
 * They live where the partition tasks run: on the engine's main thread, or on each of its
 * processing threads (pipelines/processing-thread.ts), whose store is then the main thread's
 * RocksDB database, written through messages and read directly.
 */
import fs from 'node:fs'
import { sleep, systemClock, type Clock } from '../core/clock.js'
import type { PitbossConfig } from '../core/config.js'
import { isRiskError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { TopicKey } from '../core/topics.js'
import type { ScreenFunction } from '../detectors/detector.js'
import { DetectorRegistry } from '../detectors/index.js'
import { RuleSet, RuleSetHolder } from '../detectors/rule-set.js'
import { loadModelService, type ModelService } from '../models/service.js'
import { AvroCodec, createHttpRegistryClient } from '../schemas/codec.js'
import { listsFolderFingerprint } from '../screening/directory.js'
import { loadScreenFunction } from '../screening/screen-function.js'
import { RegistryRecordDecoder } from './decoder.js'
import { EventProcessor } from './processor.js'
import { openRocksStore, type StateStore } from './state/store.js'

export interface ProcessingParts {
  readonly ruleSets: RuleSetHolder
  /** Null when the engine runs without models (PITBOSS_MODELS=off). */
  readonly models: ModelService | null
  readonly store: StateStore
  readonly decoder: RegistryRecordDecoder
  readonly encoder: { encode(topic: TopicKey, value: Record<string, unknown>): Buffer }
  readonly processor: EventProcessor
  /** Stops the decoder's retries of an unreachable registry (the engine is stopping). */
  stopping(): void
  /** Stops the reload timers, the models and the store (when it was opened here). */
  close(): Promise<void>
}

/** Retries a start-up step that needs a service which may still be coming up. */
export async function untilAvailable<T>(what: string, step: () => Promise<T>, logger: Logger, deadlineMs = 60_000, clock: Clock = systemClock): Promise<T> {
  const startMs = clock.nowMs()
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step()
    } catch (error) {
      if (!isRiskError(error) || !error.retriable || clock.nowMs() - startMs > deadlineMs) throw error
      logger.warn({ err: error, attempt }, `${what} not available yet; retrying`)
      await sleep(Math.min(2000, 100 * 2 ** attempt))
    }
  }
}

/**
 * `store`: a store opened elsewhere (a processing thread's, served by the main thread, which owns
 * the RocksDB database); it is not closed by close(). Without it, RocksDB is opened here.
 */
export async function openProcessing(config: PitbossConfig, logger: Logger, clock: Clock, options: { readonly store?: StateStore } = {}): Promise<ProcessingParts> {
  const detectors = new DetectorRegistry()
  const ruleSets = new RuleSetHolder(RuleSet.load(config.rules.ruleSetPath, detectors))
  logger.info({ ruleSet: ruleSets.current.version, contentHash: ruleSets.current.contentHash, path: config.rules.ruleSetPath }, 'rule set loaded')

  // A new rule-set version is picked up while running; an invalid file is refused and the
  // active version keeps deciding.
  const onRuleSetChange = (): void => {
    try {
      const next = RuleSet.load(config.rules.ruleSetPath, detectors)
      if (next.version === ruleSets.current.version && next.contentHash === ruleSets.current.contentHash) return
      // activate() refuses changed content under a version it has held (caught below, logged).
      const previous = ruleSets.activate(next)
      logger.info({ from: previous.version, to: next.version, contentHash: next.contentHash }, 'rule set activated')
    } catch (error) {
      logger.error({ err: error, active: ruleSets.current.version }, 'new rule set refused; the active one stays')
    }
  }
  fs.watchFile(config.rules.ruleSetPath, { interval: 1000 }, onRuleSetChange)

  // Sanctions and PEP lists, screened by the sanctions_* detectors. A configured folder that
  // holds no list stops the start: an engine must not believe it screens when it does not.
  const screening = await loadScreenFunction(config.screening.listsDir)
  if (screening === null) logger.warn('screening is off (PITBOSS_SCREENING_LISTS_DIR=off): the sanctions detectors record nothing')
  else logger.info({ lists: screening.screener.listVersions, entries: screening.screener.entryCount, names: screening.screener.nameCount }, 'sanctions lists loaded')
  // A new list version is loaded while running: the folder's files are compared every
  // reloadIntervalMs; a folder that no longer loads is refused and the lists in force stay.
  // Players screened before are screened again when risk.screening.v1 says RESCREEN
  // (screening/rescreen.ts sends one per player after a list update).
  const screens: { current: ScreenFunction | null } = { current: screening?.screen ?? null }
  let listsFingerprint = config.screening.listsDir === null ? '' : listsFolderFingerprint(config.screening.listsDir)
  let reloadingLists = false
  const listsReload = config.screening.listsDir === null ? null : setInterval(() => {
    const listsDir = config.screening.listsDir as string
    const fingerprint = listsFolderFingerprint(listsDir)
    if (fingerprint === listsFingerprint || reloadingLists) return
    reloadingLists = true
    loadScreenFunction(listsDir)
      .then((next) => {
        listsFingerprint = fingerprint
        if (next === null) return
        screens.current = next.screen
        logger.info({ lists: next.screener.listVersions, entries: next.screener.entryCount }, 'sanctions lists reloaded; send RESCREEN (screening/rescreen.ts) to screen known players again')
      })
      .catch((error: unknown) => {
        listsFingerprint = fingerprint
        logger.error({ err: error, listsDir }, 'changed sanctions lists refused; the lists in force stay')
      })
      .finally(() => { reloadingLists = false })
  }, config.screening.reloadIntervalMs)
  listsReload?.unref()

  // Models: the champion decides, shadows score beside it; the deployment file is re-read on a
  // timer, so `models/cli.ts` or the API activates, shadows and rolls back without a restart.
  const models = config.models.enabled
    ? await loadModelService({ modelsDir: config.models.dir, deploymentFile: config.models.deploymentFile, clock, logger, defaultChampion: config.models.defaultChampion })
    : null
  if (models === null) logger.warn('models are off (PITBOSS_MODELS=off): decisions carry no model score')
  else logger.info({ deployment: models.current() }, 'models loaded')
  let reloading = false
  const modelReload = models === null ? null : setInterval(() => {
    if (reloading) return
    reloading = true
    models.reloadIfChanged()
      .then((changed) => { if (changed) logger.info({ deployment: models.current() }, 'model deployment changed') })
      .catch((error: unknown) => logger.error({ err: error, deployment: models.current() }, 'new model deployment refused; the running models stay'))
      .finally(() => { reloading = false })
  }, config.models.reloadIntervalMs)
  modelReload?.unref()

  const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), config.kafka.topicPrefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
  await untilAvailable('schema registry', () => codec.registerAll(), logger, 60_000, clock)
  const store = options.store ?? (await openRocksStore(config.state.dir))
  let running = true
  return {
    ruleSets,
    models,
    store,
    decoder: new RegistryRecordDecoder(codec, logger, () => running, config.pipeline.maxFutureSkewMs),
    encoder: { encode: (topic, value) => codec.encode(topic, value) },
    processor: new EventProcessor(detectors, { screens, scoring: models !== null, links: config.graph.links }),
    stopping() {
      running = false
    },
    async close() {
      running = false
      fs.unwatchFile(config.rules.ruleSetPath, onRuleSetChange)
      if (modelReload !== null) clearInterval(modelReload)
      if (listsReload !== null) clearInterval(listsReload)
      await models?.close()
      if (options.store === undefined) await store.close()
    },
  }
}
