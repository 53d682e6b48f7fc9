import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ManualClock } from '../../core/clock.js'
import { isRiskError } from '../../core/errors.js'
import { silentLogger } from '../../core/logger.js'
import type { Deployment } from '../../models/deployment.js'
import { FEATURE_COUNT } from '../../models/features.js'
import { OnnxSession } from '../../models/ort-session.js'
import { loadModelService, type ModelService, type ModelServiceOptions } from '../../models/service.js'
import { goldenBatch, goldenRows, SHIPPED_MODEL_DIRECTORY } from './shipped.js'

/** The manifest as a test edits it: loosely typed on purpose, to break it in ways the type forbids. */
interface LooseManifest { modelVersion: string; featureContract: { features: Array<{ name: string }> }; sha256: string; calibration: { cutoffProbability: number } }

let temporary: string
let modelsDir: string
let testCount = 0
const services: ModelService[] = []

/** A copy of the shipped model under `modelsDir/<folder>`, its manifest edited by `edit`. */
function modelCopy(folder: string, edit: (manifest: LooseManifest) => void = () => undefined, parent = modelsDir): string {
  const directory = path.join(parent, folder)
  cpSync(SHIPPED_MODEL_DIRECTORY, directory, { recursive: true })
  const manifest = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as LooseManifest
  edit(manifest)
  writeFileSync(path.join(directory, 'manifest.json'), JSON.stringify(manifest))
  return directory
}

beforeAll(() => {
  temporary = mkdtempSync(path.join(os.tmpdir(), 'pitboss-model-service-'))
  modelsDir = path.join(temporary, 'models')
  mkdirSync(modelsDir)
  modelCopy('copy-v1', (manifest) => { manifest.modelVersion = '1.0.0' })
  // Same trees, another version: scores are equal, the version tells which model scored.
  modelCopy('copy-v2', (manifest) => { manifest.modelVersion = '2.0.0' })
  modelCopy('renamed-feature', (manifest) => { manifest.featureContract.features[5]!.name = 'deposits_1h_sum' })
  modelCopy('wrong-sha', (manifest) => { manifest.sha256 = 'f'.repeat(64) })
})
afterEach(async () => {
  vi.restoreAllMocks()
  await Promise.all(services.splice(0).map((service) => service.close()))
})
afterAll(() => rmSync(temporary, { recursive: true, force: true }))

/** A service on a fresh deployment file (or on `deploymentFile` to share one). */
async function service(options: Partial<ModelServiceOptions> = {}): Promise<ModelService> {
  testCount += 1
  const loaded = await loadModelService({
    modelsDir, deploymentFile: path.join(temporary, `state-${testCount}`, 'deployment.json'), clock: new ManualClock(1_000),
    logger: silentLogger, defaultChampion: 'copy-v1', ...options,
  })
  services.push(loaded)
  return loaded
}

const readFile = (file: string): Deployment => JSON.parse(readFileSync(file, 'utf8')) as Deployment
const deploymentFileOf = (index: number): string => path.join(temporary, `state-${index}`, 'deployment.json')

async function refusalCode(work: Promise<unknown>): Promise<string> {
  try {
    await work
  } catch (error) {
    if (isRiskError(error)) return error.code
    throw error
  }
  throw new Error('the change was accepted')
}

describe('ModelService scoring', () => {
  it('starts with the default champion and scores like the trainer, with sorted top contributions', async () => {
    const models = await service()
    expect(models.current()).toEqual({ champion: { folder: 'copy-v1', modelId: 'withdrawal-typology-xgb', modelVersion: '1.0.0' }, shadows: [] })
    expect(existsSync(deploymentFileOf(testCount))).toBe(false)
    const cutoff = (JSON.parse(readFileSync(path.join(modelsDir, 'copy-v1', 'manifest.json'), 'utf8')) as LooseManifest).calibration.cutoffProbability
    for (const row of goldenRows().slice(0, 10)) {
      const scored = await models.scoreOne(goldenBatch([row]))
      const champion = scored.champion!
      expect(Math.abs(champion.score - row.probability)).toBeLessThan(1e-5)
      expect(champion.score).toBe(Math.fround(champion.score))
      expect(champion.cutoff).toBe(cutoff)
      expect(champion.aboveCutoff).toBe(champion.score >= cutoff)
      expect(champion.contributions.length).toBeLessThanOrEqual(5)
      const sizes = champion.contributions.map((entry) => Math.abs(entry.contribution))
      expect(sizes).toEqual([...sizes].sort((a, b) => b - a))
      expect(scored.shadows).toEqual([])
    }
  })

  it('scores a batch with one ONNX run per model, equal to scoring row by row', async () => {
    const models = await service()
    await models.shadow('copy-v2', 'dana')
    const rows = goldenRows().map((row) => goldenBatch([row]))
    // Counts ONNX Runtime's real runs (the spy calls through).
    const run = vi.spyOn(OnnxSession.prototype, 'run')
    const batch = await models.scoreBatch(rows)
    expect(run).toHaveBeenCalledTimes(2)
    expect(batch).toHaveLength(rows.length)
    for (const [index, row] of rows.entries()) {
      const alone = await models.scoreOne(row)
      const together = batch[index]!
      expect(Math.abs(together.champion!.score - alone.champion!.score)).toBeLessThan(1e-6)
      expect(together.champion!.contributions.map((entry) => entry.feature)).toEqual(alone.champion!.contributions.map((entry) => entry.feature))
      expect(together.shadows.map((shadow) => shadow.modelVersion)).toEqual(['2.0.0'])
      expect(Math.abs(together.shadows[0]!.score - alone.shadows[0]!.score)).toBeLessThan(1e-6)
    }
    expect(await models.scoreBatch([])).toEqual([])
  })

  it('refuses a vector of the wrong width', async () => {
    const models = await service()
    await expect(models.scoreOne(new Float32Array(FEATURE_COUNT - 1))).rejects.toThrow(/RISK_ERR_INVALID_FIELD/)
  })

  it('scores nothing when no champion is deployed', async () => {
    const models = await service({ defaultChampion: null })
    expect(await models.scoreOne(new Float32Array(FEATURE_COUNT))).toEqual({ champion: null, shadows: [] })
  })
})

describe('ModelService changes', () => {
  it('refuses a model with a wrong feature name or a wrong sha256, and the champion keeps scoring', async () => {
    const models = await service()
    const row = goldenBatch(goldenRows().slice(0, 1))
    const before = await models.scoreOne(row)
    expect(await refusalCode(models.activate('renamed-feature', 'mallory'))).toBe('RISK_ERR_MODEL_MISMATCH')
    expect(await refusalCode(models.activate('wrong-sha', 'mallory'))).toBe('RISK_ERR_MODEL_MISMATCH')
    expect(await refusalCode(models.shadow('wrong-sha', 'mallory'))).toBe('RISK_ERR_MODEL_MISMATCH')
    expect(await refusalCode(models.activate('no-such-model', 'mallory'))).toBe('RISK_ERR_REQUEST_INVALID')
    expect(await refusalCode(models.activate('../copy-v1', 'mallory'))).toBe('RISK_ERR_REQUEST_INVALID')
    expect(models.current().champion?.folder).toBe('copy-v1')
    expect(existsSync(deploymentFileOf(testCount))).toBe(false)
    expect(await models.scoreOne(row)).toEqual(before)
  })

  it('activates, shadows, unshadows and rolls back, writing each change with its audit entry', async () => {
    const clock = new ManualClock(10_000)
    const models = await service({ clock })
    const file = deploymentFileOf(testCount)
    const shadowEntry = await models.shadow('copy-v2', 'alice')
    expect(shadowEntry?.after).toEqual({ champion: 'copy-v1', shadows: ['copy-v2'] })
    expect(await models.shadow('copy-v2', 'alice')).toBeNull()
    expect(await refusalCode(models.shadow('copy-v1', 'alice'))).toBe('RISK_ERR_REQUEST_INVALID')
    const row = goldenBatch(goldenRows().slice(0, 1))
    expect((await models.scoreOne(row)).shadows.map((shadow) => shadow.modelVersion)).toEqual(['2.0.0'])

    clock.advance(1_000)
    await models.activate('copy-v2', 'bob')
    expect(models.current()).toEqual({ champion: { folder: 'copy-v2', modelId: 'withdrawal-typology-xgb', modelVersion: '2.0.0' }, shadows: [] })
    expect((await models.scoreOne(row)).champion?.modelVersion).toBe('2.0.0')
    clock.advance(1_000)
    await models.shadow('copy-v1', 'bob')
    await models.unshadow('copy-v1', 'carol')
    expect(await models.unshadow('copy-v1', 'carol')).toBeNull()
    clock.advance(1_000)
    const rollback = await models.rollback('carol')
    expect(rollback.after).toEqual({ champion: 'copy-v1', shadows: [] })
    expect((await models.scoreOne(row)).champion?.modelVersion).toBe('1.0.0')
    expect(await refusalCode(models.rollback('carol'))).toBe('RISK_ERR_REQUEST_INVALID')

    const written = readFile(file)
    expect(written).toMatchObject({ champion: 'copy-v1', shadows: [], changedBy: 'carol', changedAtMs: 13_000 })
    expect(written.history.map((entry) => [entry.atMs, entry.actor, entry.action, entry.folder, entry.model, entry.before.champion, entry.after.champion])).toEqual([
      [10_000, 'alice', 'shadow', 'copy-v2', 'withdrawal-typology-xgb@2.0.0', 'copy-v1', 'copy-v1'],
      [11_000, 'bob', 'activate', 'copy-v2', 'withdrawal-typology-xgb@2.0.0', 'copy-v1', 'copy-v2'],
      [12_000, 'bob', 'shadow', 'copy-v1', 'withdrawal-typology-xgb@1.0.0', 'copy-v2', 'copy-v2'],
      [12_000, 'carol', 'unshadow', 'copy-v1', 'withdrawal-typology-xgb@1.0.0', 'copy-v2', 'copy-v2'],
      [13_000, 'carol', 'rollback', 'copy-v1', 'withdrawal-typology-xgb@1.0.0', 'copy-v2', 'copy-v1'],
    ])
    expect(written.history[0]!.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(models.history()).toEqual(written.history)
    // No temp file is left beside the deployment.
    expect(readdirSync(path.dirname(file))).toEqual(['deployment.json'])
  })

  it('uploads a checked model folder, refuses a mismatched one, and never overwrites', async () => {
    const models = await service()
    const exports = path.join(temporary, `exports-${testCount}`)
    mkdirSync(exports)
    const good = modelCopy('copy-v3', (manifest) => { manifest.modelVersion = '3.0.0' }, exports)
    const bad = modelCopy('copy-bad', (manifest) => { manifest.sha256 = '0'.repeat(64) }, exports)
    expect(await refusalCode(models.upload(bad, 'erin'))).toBe('RISK_ERR_MODEL_MISMATCH')
    expect(existsSync(path.join(modelsDir, 'copy-bad'))).toBe(false)
    const entry = await models.upload(good, 'erin')
    expect(entry).toMatchObject({ action: 'upload', folder: 'copy-v3', model: 'withdrawal-typology-xgb@3.0.0', before: { champion: 'copy-v1' }, after: { champion: 'copy-v1' } })
    expect(models.available()).toContain('copy-v3')
    expect(await refusalCode(models.upload(good, 'erin'))).toBe('RISK_ERR_REQUEST_INVALID')
    await models.activate('copy-v3', 'erin')
    expect(models.current().champion?.modelVersion).toBe('3.0.0')
  })
})

describe('ModelService across processes', () => {
  it('picks up a change another service wrote, once', async () => {
    const writer = await service()
    const file = deploymentFileOf(testCount)
    const engine = await service({ deploymentFile: file })
    expect(await engine.reloadIfChanged()).toBe(false)
    await writer.activate('copy-v2', 'alice')
    await writer.shadow('copy-v1', 'alice')
    expect(await engine.reloadIfChanged()).toBe(true)
    expect(engine.current()).toEqual(writer.current())
    expect(await engine.reloadIfChanged()).toBe(false)
    // A rollback from the engine's side undoes the writer's activate: the stack lives in the file.
    await engine.rollback('bob')
    expect(await writer.reloadIfChanged()).toBe(true)
    expect(writer.current().champion?.folder).toBe('copy-v1')
  })

  it('keeps its models when the file names one that does not load, and does not retry until the file changes', async () => {
    const models = await service()
    const file = deploymentFileOf(testCount)
    await models.shadow('copy-v2', 'alice')
    writeFileSync(file, JSON.stringify({ ...readFile(file), champion: 'wrong-sha' }))
    expect(await refusalCode(models.reloadIfChanged())).toBe('RISK_ERR_MODEL_MISMATCH')
    expect(models.current().champion?.folder).toBe('copy-v1')
    expect((await models.scoreOne(new Float32Array(FEATURE_COUNT))).champion?.modelVersion).toBe('1.0.0')
    expect(await models.reloadIfChanged()).toBe(false)
    // The engine refuses to start on it; the CLI starts without it and can roll away from it.
    expect(await refusalCode(loadModelService({ modelsDir, deploymentFile: file, clock: new ManualClock(), logger: silentLogger }))).toBe('RISK_ERR_MODEL_MISMATCH')
    const cli = await service({ deploymentFile: file, unloadableAtStart: 'skip' })
    expect(cli.current()).toEqual({ champion: null, shadows: [{ folder: 'copy-v2', modelId: 'withdrawal-typology-xgb', modelVersion: '2.0.0' }] })
    await cli.activate('copy-v1', 'alice')
    expect(await models.reloadIfChanged()).toBe(false)
    expect(readFile(file).history.at(-1)).toMatchObject({ action: 'activate', before: { champion: 'wrong-sha' }, after: { champion: 'copy-v1', shadows: ['copy-v2'] } })
  })

  it('reports a malformed deployment file once and keeps scoring', async () => {
    const models = await service()
    const file = deploymentFileOf(testCount)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, '{ "champion": ')
    expect(await refusalCode(models.reloadIfChanged())).toBe('RISK_ERR_CONFIG_INVALID')
    expect(await models.reloadIfChanged()).toBe(false)
    expect((await models.scoreOne(new Float32Array(FEATURE_COUNT))).champion?.modelVersion).toBe('1.0.0')
  })

  it('swaps during a burst of concurrent scoring: every call resolves on one of the two versions', async () => {
    const models = await service()
    const row = goldenBatch(goldenRows().slice(0, 1))
    const results: Array<{ version: string | undefined; startedAfterSwap: boolean }> = []
    let swapped = false
    let afterSwap = 0
    const worker = async (): Promise<void> => {
      while (!swapped || afterSwap < 50) {
        const startedAfterSwap = swapped
        const scored = await models.scoreOne(row)
        results.push({ version: scored.champion?.modelVersion, startedAfterSwap })
        if (startedAfterSwap) afterSwap += 1
        // A call runs the model before it returns (models/ort-session.ts) and resolves without
        // a turn of the event loop: give the swap's file reads and writes theirs between calls.
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    const workers = Array.from({ length: 16 }, () => worker())
    while (results.length < 50) await new Promise((resolve) => setImmediate(resolve))
    await models.activate('copy-v2', 'alice')
    swapped = true
    await Promise.all(workers)
    const versions = new Set(results.map((result) => result.version))
    expect([...versions].sort()).toEqual(['1.0.0', '2.0.0'])
    expect(results.filter((result) => result.startedAfterSwap).every((result) => result.version === '2.0.0')).toBe(true)
  })
})
