/**
 * Models swapped while events flow (issue 4): the engine starts with champion v1; mid-stream a
 * data scientist's tool (the ModelService the CLI and API use, on the same deployment file)
 * adds v2 as a shadow, then makes v2 the champion. The engine re-reads the deployment without a
 * restart. Every withdrawal is decided exactly once, decisions carry v1 before and v2 after,
 * and the shadow's scores land in ClickHouse's model_scores beside the champion's.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deposit, player, withdrawal } from '../../bench/events.js'
import { sleep, systemClock } from '../../core/clock.js'
import { silentLogger } from '../../core/logger.js'
import { loadModelService, SHIPPED_MODEL_FOLDER, SHIPPED_MODELS_DIRECTORY } from '../../models/service.js'
import type { Decision } from '../../schemas/generated/types.js'
import { createClickHouse } from '../../sinks/clickhouse/client.js'
import { sql } from '../../sinks/clickhouse/sql.js'
import { EngineProcess, TopicReader, encoded, isolated, produce, type Isolated, type Message } from './support.js'

const MINUTE = 60_000
const T0 = Date.UTC(2026, 10, 26, 8)

function copyModel(modelsDir: string, folder: string, modelVersion: string): void {
  const target = path.join(modelsDir, folder)
  fs.cpSync(path.join(SHIPPED_MODELS_DIRECTORY, SHIPPED_MODEL_FOLDER), target, { recursive: true })
  const manifestPath = path.join(target, 'manifest.json')
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { modelVersion: string }
  manifest.modelVersion = modelVersion
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2))
}

/** Wave n: 20 players each deposit and withdraw once (withdrawal ids w<n>-<i>). */
function wave(test: Isolated, n: number): Message[] {
  return Array.from({ length: 20 }, (_, index) => {
    const playerId = `p-${n}-${index}`
    const atMs = T0 + n * 10 * MINUTE
    return [
      encoded(test, 'players', player({ playerId, eventTimeMs: atMs })),
      encoded(test, 'deposits', deposit({ playerId, eventTimeMs: atMs + MINUTE, amountMinor: 100_00 + index })),
      encoded(test, 'withdrawals', withdrawal({ playerId, withdrawalId: `w${n}-${index}`, eventTimeMs: atMs + 2 * MINUTE, amountMinor: 20_00 + index })),
    ]
  }).flat()
}

describe('model hot swap in a running engine', () => {
  let test: Isolated
  let modelsDir: string
  let deploymentFile: string

  beforeAll(async () => {
    modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-models-'))
    copyModel(modelsDir, 'burst-v1', '1.0.0')
    copyModel(modelsDir, 'burst-v2', '2.0.0')
    deploymentFile = path.join(modelsDir, 'deployment.json')
    test = await isolated('model-swap', {
      PITBOSS_MODELS_DIR: modelsDir,
      PITBOSS_MODELS_DEPLOYMENT_FILE: deploymentFile,
      PITBOSS_MODELS_DEFAULT_CHAMPION: 'burst-v1',
      PITBOSS_MODELS_RELOAD_INTERVAL_MS: '200',
    })
  })

  afterAll(() => {
    fs.rmSync(modelsDir, { recursive: true, force: true })
    if (test !== undefined) fs.rmSync(test.workDir, { recursive: true, force: true })
  })

  it('decides with v1, shadows v2, then decides with v2, dropping nothing; shadow scores reach ClickHouse', async () => {
    const engine = new EngineProcess(test).start()
    const sink = new EngineProcess(test, 'sink', 'sinks/main.ts').start()
    const reader = await new TopicReader<Decision>(test, 'decisions').start()
    const tool = await loadModelService({ modelsDir, deploymentFile, clock: systemClock, logger: silentLogger, defaultChampion: 'burst-v1', unloadableAtStart: 'skip' })
    const clickhouse = createClickHouse(test.config.clickhouse)
    try {
      await produce(test, wave(test, 0))
      await reader.waitFor((values) => values.length >= 20, 120_000)

      await tool.shadow('burst-v2', 'data-scientist-dana')
      await sleep(1500) // > the engine's reload interval: the next wave is scored by both
      await produce(test, wave(test, 1))
      await reader.waitFor((values) => values.length >= 40, 60_000)

      await tool.activate('burst-v2', 'data-scientist-dana')
      expect(await tool.unshadow('burst-v2', 'data-scientist-dana')).toBeNull() // the new champion is no longer its own shadow
      await sleep(1500)
      await produce(test, wave(test, 2))
      await reader.waitFor((values) => values.length >= 60, 60_000)

      const byWave = (n: number): Decision[] => reader.values.filter((decision) => decision.withdrawalId.startsWith(`w${n}-`))
      expect(byWave(0).map((decision) => decision.model?.modelVersion)).toEqual(Array(20).fill('1.0.0'))
      expect(byWave(0).every((decision) => decision.shadows.length === 0)).toBe(true)
      expect(byWave(1).map((decision) => decision.model?.modelVersion)).toEqual(Array(20).fill('1.0.0'))
      expect(byWave(1).map((decision) => decision.shadows.map((shadow) => shadow.modelVersion))).toEqual(Array(20).fill(['2.0.0']))
      expect(byWave(2).map((decision) => decision.model?.modelVersion)).toEqual(Array(20).fill('2.0.0'))
      expect(byWave(2).every((decision) => decision.shadows.length === 0)).toBe(true)
      for (const decision of reader.values) {
        expect(decision.model?.cutoff).toBeGreaterThan(0)
        expect(decision.model?.contributions.length).toBeGreaterThan(0)
      }
      // exactly once
      const ids = reader.values.map((decision) => decision.decisionId)
      expect(new Set(ids).size).toBe(60)
      expect(ids).toHaveLength(60)

      // the shadow's scores beside the champion's, in ClickHouse
      const deadline = Date.now() + 60_000
      let rows: Array<{ role: string; model_version: string; rows: string }> = []
      for (;;) {
        rows = await clickhouse.query<{ role: string; model_version: string; rows: string }>(sql`SELECT role, model_version, count() AS rows FROM model_scores FINAL GROUP BY role, model_version ORDER BY role, model_version`).catch(() => [])
        if (rows.reduce((total, row) => total + Number(row.rows), 0) >= 80) break
        if (Date.now() > deadline) throw new Error(`model_scores has ${JSON.stringify(rows)}; see ${sink.logFile}`)
        await sleep(250)
      }
      expect(rows.map((row) => [row.role, row.model_version, Number(row.rows)])).toEqual([['champion', '1.0.0', 40], ['champion', '2.0.0', 20], ['shadow', '2.0.0', 20]])
      expect(tool.history().map((entry) => entry.action)).toEqual(['shadow', 'activate'])
    } finally {
      await tool.close()
      await reader.stop()
      expect(await engine.stop('SIGTERM')).toBe(0)
      expect(await sink.stop('SIGTERM')).toBe(0)
    }
  })
})
