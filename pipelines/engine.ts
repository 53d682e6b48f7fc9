/**
 * Builds a running engine from a config: the processing parts (pipelines/processing.ts: rule
 * set, sanctions lists, models, schema codec, RocksDB state), the Kafka runner and the metrics
 * endpoint. With `PITBOSS_PROCESSING_THREAD=on` (the default) the partition tasks and every
 * processing part run on a thread of their own (pipelines/processing-thread.ts) and this thread
 * keeps Kafka: fetching, producing, the group. pipelines/main.ts is the process around it; tests
 * and the demo can call it directly.
 */
import { systemClock, type Clock } from '../core/clock.js'
import type { PitbossConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import type { RuleSetHolder } from '../detectors/rule-set.js'
import type { ModelService } from '../models/service.js'
import { EngineRunner, LocalTasks, type TaskHost } from './kafka/engine-runner.js'
import { ProcessingThread } from './kafka/processing-thread-client.js'
import { createEngineMetrics, serveMetrics } from './metrics.js'
import { openProcessing, type ProcessingParts } from './processing.js'

export { untilAvailable } from './processing.js'

export interface Engine {
  readonly metricsPort: number
  /** The rule sets and models, when the tasks run on this thread; null on the processing thread (which reloads both from their files itself). */
  readonly ruleSets: RuleSetHolder | null
  readonly models: ModelService | null
  readonly runner: EngineRunner
  stop(): Promise<void>
}

export async function startEngine(config: PitbossConfig, logger: Logger, clock: Clock = systemClock): Promise<Engine> {
  const metrics = createEngineMetrics()
  const metricsServer = await serveMetrics(metrics.registry, config.metrics.host, config.metrics.port)
  let parts: ProcessingParts | null = null
  let thread: ProcessingThread | null = null
  let tasks: TaskHost
  if (config.pipeline.processingThread) {
    thread = await ProcessingThread.start(config, logger)
    tasks = thread
  } else {
    parts = await openProcessing(config, logger, clock)
    tasks = new LocalTasks({ config, ...parts, scorer: parts.models, clock, logger })
  }
  const runner = new EngineRunner({ config, kafka: createKafka(config.kafka, logger), tasks, metrics, clock, logger })
  thread?.onFatal((error) => runner.failWith(error))
  await runner.start()
  return {
    metricsPort: metricsServer.port,
    ruleSets: parts?.ruleSets ?? null,
    models: parts?.models ?? null,
    runner,
    async stop() {
      parts?.stopping()
      thread?.stopping()
      await runner.stop()
      await parts?.close()
      await thread?.stop()
      await metricsServer.close()
    },
  }
}
