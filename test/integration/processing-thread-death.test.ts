import type { Worker } from 'node:worker_threads'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../core/logger.js'
import { ProcessingThreads } from '../../pipelines/kafka/processing-thread-client.js'
import { noopTaskMetrics } from '../../pipelines/partition-task.js'
import { openRocksStore } from '../../pipelines/state/store.js'
import { isolated } from './support.js'

describe('a processing thread that dies', () => {
  it('is reported to the engine, and the calls of its tasks fail while the other thread goes on', async () => {
    const test = await isolated('thread-death', { PITBOSS_MODELS: 'off', PITBOSS_SCREENING_LISTS_DIR: 'off' })
    const store = await openRocksStore(path.join(test.workDir, 'state'))
    const threads = await ProcessingThreads.start(test.config, silentLogger, store, 2)
    try {
      const fatal: Error[] = []
      threads.onFatal((error) => fatal.push(error))
      const wiring = { submit: async () => undefined, refreshHighWatermarks: async () => undefined, metrics: noopTaskMetrics }
      const onThreadOne = threads.newTask(1, wiring)
      await onThreadOne.open()
      // What an uncaught error or an out-of-memory abort does to a thread: it exits, with code 1.
      const workers = (threads as unknown as { threads: ReadonlyArray<{ worker: Worker }> }).threads
      await workers[1]?.worker.terminate()
      for (let waited = 0; fatal.length === 0 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
      // The engine runner exits the process on this (EngineRunner.failWith); the supervisor restarts it.
      expect(fatal.map((error) => error.message)).toEqual(['processing thread 1 exited with code 1'])
      await expect(onThreadOne.drain()).rejects.toThrow('processing thread 1 exited with code 1')
      const onThreadZero = threads.newTask(0, wiring)
      await expect(onThreadZero.open()).resolves.toBeInstanceOf(Map)
    } finally {
      await threads.stop()
      await store.close()
    }
  }, 60_000)
})
