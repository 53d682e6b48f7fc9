/**
 * Two engine processes in one group split the partitions (partition p of every input topic on
 * the same process); one is SIGKILLed mid-stream and the survivor takes its partitions over,
 * rebuilding their state by replaying the input topics. Every withdrawal is decided, and every
 * decision equals the one the in-memory driver makes from the same events.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateFixture } from '../../bench/fixture.js'
import { systemClock } from '../../core/clock.js'
import { loadConfig } from '../../core/config.js'
import { silentLogger } from '../../core/logger.js'
import { loadModelService, SHIPPED_MODEL_FOLDER, SHIPPED_MODELS_DIRECTORY } from '../../models/service.js'
import { loadScreenFunction } from '../../screening/screen-function.js'
import type { Decision } from '../../schemas/generated/types.js'
import { testPipeline } from '../support/pipeline.js'
import { EngineProcess, TopicReader, encoded, isolated, produce, type Isolated } from './support.js'

const fixture = generateFixture({ seed: 99, players: 80, days: 5 })

const withoutPrefix = (decision: Decision, prefix: string): string =>
  JSON.stringify({ ...decision, source: { ...decision.source, topic: decision.source.topic.slice(prefix.length) } })

describe('rebalance', () => {
  it('splits partitions between two engines and survives losing one', async () => {
    // the reference screens names against the same lists, and scores with the same shipped model, as the engines
    const screening = await loadScreenFunction(loadConfig().screening.listsDir)
    const modelsHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-rebalance-models-'))
    const models = await loadModelService({ modelsDir: SHIPPED_MODELS_DIRECTORY, deploymentFile: path.join(modelsHome, 'deployment.json'), clock: systemClock, logger: silentLogger, defaultChampion: SHIPPED_MODEL_FOLDER })
    const reference = await testPipeline({ partitions: 8, screen: screening?.screen ?? null, scorer: models })
    for (const event of fixture) reference.send(event.topic, event.value)
    await reference.driver.run()
    await models.close()
    fs.rmSync(modelsHome, { recursive: true, force: true })
    const expected = new Map((await reference.decisions()).map((decision) => [decision.decisionId, withoutPrefix(decision, '')]))

    const test: Isolated = await isolated('rebalance')
    const second = { ...test, env: { ...test.env, PITBOSS_INSTANCE_ID: 'engine-1', PITBOSS_STATE_DIR: path.join(test.workDir, 'state-1') } }
    const reader = await new TopicReader<Decision>(test, 'decisions').start()
    const first = new EngineProcess(test, 'engine-0').start()
    const other = new EngineProcess(second, 'engine-1').start()
    try {
      // both members joined and split the 8 partitions before the data arrives
      await waitForLog(first, /"msg":"partitions assigned"/)
      await waitForLog(other, /"msg":"partitions assigned"/)
      await waitUntil(() => lastAssignment(first).length + lastAssignment(other).length === 8 && lastAssignment(first).length > 0 && lastAssignment(other).length > 0)
      expect([...lastAssignment(first), ...lastAssignment(other)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])

      await produce(test, fixture.map((event) => encoded(test, event.topic, event.value)))
      await reader.waitFor((values) => values.length >= expected.size * 0.3)
      await other.stop('SIGKILL')
      await reader.waitFor((values) => new Set(values.map((decision) => decision.decisionId)).size >= expected.size, 120_000)
      // The killed engine may have emitted its last decisions before the kill (the engines decide
      // this fixture in about a second), so the decisions can all be in before the survivor's
      // rebalance: wait for it to take the partitions over.
      await waitUntil(() => lastAssignment(first).length === 8, 60_000, () => `engine-0 still holds ${JSON.stringify(lastAssignment(first))}; see ${first.logFile}`)
      expect(lastAssignment(first)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])

      const seen = new Map<string, Set<string>>()
      for (const decision of reader.values) seen.set(decision.decisionId, (seen.get(decision.decisionId) ?? new Set()).add(withoutPrefix(decision, test.config.kafka.topicPrefix)))
      expect([...seen.keys()].sort()).toEqual([...expected.keys()].sort())
      const conflicts = [...seen].filter(([decisionId, copies]) => copies.size !== 1 || [...copies][0] !== expected.get(decisionId))
      expect(conflicts.slice(0, 3).map(([decisionId, copies]) => ({ decisionId, copies: [...copies], expected: expected.get(decisionId) }))).toEqual([])
    } finally {
      await reader.stop()
      await first.stop()
      await other.stop()
    }
  })
})

function lastAssignment(engine: EngineProcess): number[] {
  const lines = engine.log().split('\n').filter((line) => line.includes('"msg":"partitions assigned"'))
  const last = lines[lines.length - 1]
  return last === undefined ? [] : (JSON.parse(last) as { partitions: number[] }).partitions
}

async function waitForLog(engine: EngineProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  await waitUntil(() => pattern.test(engine.log()), timeoutMs, () => `no ${pattern} in ${engine.logFile}: ${fs.existsSync(engine.logFile) ? engine.log().slice(-2000) : ''}`)
}

async function waitUntil(condition: () => boolean, timeoutMs = 60_000, describe: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
