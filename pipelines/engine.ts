/**
 * Builds a running engine from a config: the processing parts (pipelines/processing.ts: rule
 * set, sanctions lists, models, schema codec, RocksDB state), the Kafka runner and the metrics
 * endpoint. With `PITBOSS_PROCESSING_THREADS` above 0 (default 1) the partition tasks and every
 * processing part run on processing threads (pipelines/processing-thread.ts) and this thread
 * keeps Kafka (fetching, producing, the group) and the RocksDB database; with 0 everything runs
 * here. pipelines/main.ts is the process around it; tests and the demo can call it directly.
 */
import { systemClock, type Clock } from '../core/clock.js'
import type { PitbossConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import type { RuleSetHolder } from '../detectors/rule-set.js'
import type { ModelService } from '../models/service.js'
import { EngineRunner, LocalTasks, type TaskHost } from './kafka/engine-runner.js'
import { ProcessingThreads } from './kafka/processing-thread-client.js'
import { createEngineMetrics, serveMetrics } from './metrics.js'
import { openProcessing, type ProcessingParts } from './processing.js'
import { openRocksStore, type StateStore } from './state/store.js'

export interface Engine {
  readonly metricsPort: number
  /** The rule sets and models, when the tasks run on this thread; null with processing threads (each reloads both from their files itself). */
  readonly ruleSets: RuleSetHolder | null
  readonly models: ModelService | null
  readonly runner: EngineRunner
  stop(): Promise<void>
}

export async function startEngine(config: PitbossConfig, logger: Logger, clock: Clock = systemClock): Promise<Engine> {
  const metrics = createEngineMetrics()
  const metricsServer = await serveMetrics(metrics.registry, config.metrics.host, config.metrics.port)
  let parts: ProcessingParts | null = null
  let threads: ProcessingThreads | null = null
  let store: StateStore | null = null
  let tasks: TaskHost
  if (config.pipeline.processingThreads > 0) {
    store = await openRocksStore(config.state.dir)
    threads = await ProcessingThreads.start(config, logger, store, config.pipeline.processingThreads, { memory: (thread, memory) => metrics.processingThreadMemory(thread, memory) }).catch(async (error: unknown) => {
      await store?.close()
      throw error
    })
    tasks = threads
  } else {
    parts = await openProcessing(config, logger, clock)
    tasks = new LocalTasks({ config, ...parts, scorer: parts.models, clock, logger })
  }
  const runner = new EngineRunner({ config, kafka: createKafka(config.kafka, logger), tasks, metrics, clock, logger })
  threads?.onFatal((error) => runner.failWith(error))
  await runner.start()
  return {
    metricsPort: metricsServer.port,
    ruleSets: parts?.ruleSets ?? null,
    models: parts?.models ?? null,
    runner,
    async stop() {
      parts?.stopping()
      threads?.stopping()
      await runner.stop()
      await parts?.close()
      await threads?.stop()
      await store?.close()
      await metricsServer.close()
    },
  }
}
