/**
 * Engine metrics (prom-client), behind the TaskMetrics interface the partition tasks see.
 * Names are the ones the Prometheus alert rules and the Grafana dashboard use
 * (infra/prometheus/alerts.yml, infra/grafana/dashboards/pitboss.json).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { OUTPUT_LATENCY_STAGES, type OutputLane, type OutputProducerStatistics } from '../core/output-producer.js'
import type { DecisionStageMs, TaskMetrics } from './partition-task.js'

export interface EngineMetrics extends TaskMetrics {
  readonly registry: Registry
  consumerLag(topic: string, partition: number, lag: number): void
  forgetPartition(topic: string, partition: number): void
  /** One round of high-watermark requests for the event-time merge: the topics asked, and how long it took. */
  highWatermarkRefresh(topics: readonly string[], elapsedMs: number): void
  /** A processing thread's V8 heap (the process's own nodejs_* heap metrics cover the main thread only). */
  processingThreadMemory(thread: number, memory: ThreadMemory): void
  /** One statistics report of one of the librdkafka output producer's lanes (core/output-producer.ts). */
  outputProducerStatistics(statistics: OutputProducerStatistics, lane: OutputLane): void
}

export interface ThreadMemory {
  readonly heapTotalBytes: number
  readonly heapUsedBytes: number
  readonly externalBytes: number
}

export function createEngineMetrics(registry = new Registry()): EngineMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'pitboss_process_' })
  const events = new Counter({ name: 'pitboss_events_processed_total', help: 'input events processed, by topic key', labelNames: ['topic'], registers: [registry] })
  const deadLetters = new Counter({ name: 'pitboss_dead_letters_total', help: 'inputs sent to the dead-letter topic, by reason code', labelNames: ['reason'], registers: [registry] })
  const decisions = new Counter({ name: 'pitboss_decisions_total', help: 'withdrawal decisions, by outcome', labelNames: ['outcome'], registers: [registry] })
  // By outcome: an APPROVE is an instant payout, whose own objective (30 s) the
  // PitbossInstantPayoutSlow alert checks. Buckets up to 60 s so a p99 past 30 s is
  // measurable (past the last bucket histogram_quantile answers that bucket's bound).
  const latency = new Histogram({
    name: 'pitboss_decision_latency_seconds', help: 'withdrawal record arrival in the engine to its decision acknowledged by Kafka, by outcome',
    labelNames: ['outcome'], buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry],
  })
  // The same latency split by where it went (DecisionStageMs); finer buckets, for profiling (a p99
  // read from 10 and 25 ms alone put every tail between 10 and 25 ms near 24 ms).
  const stageTime = new Histogram({
    name: 'pitboss_decision_stage_seconds', help: 'withdrawal decision latency by stage: to_task (crossing to the processing thread, decode), refresh (the event-time merge waiting for idle topics\' high watermarks), merge (the rest of the wait in the task: earlier batches, other tasks), load (player states read from the store), score (the model service), process (the rest of the batch), behind (earlier batches\' outputs), pending_write, produce (until acknowledged)',
    labelNames: ['stage'], buckets: [0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.1, 0.25, 1, 5], registers: [registry],
  })
  const stageLabels: ReadonlyArray<readonly [keyof DecisionStageMs, string]> = [['toTask', 'to_task'], ['refresh', 'refresh'], ['merge', 'merge'], ['load', 'load'], ['score', 'score'], ['process', 'process'], ['behind', 'behind'], ['pendingWrite', 'pending_write'], ['produce', 'produce']]
  const detectorHits = new Counter({ name: 'pitboss_detector_hits_total', help: 'alerts raised, by detector id', labelNames: ['detector'], registers: [registry] })
  const detectorErrors = new Counter({ name: 'pitboss_detector_errors_total', help: 'detector steps that threw', labelNames: ['detector'], registers: [registry] })
  const duplicates = new Counter({ name: 'pitboss_duplicate_inputs_total', help: 'withdrawal requests already decided (dropped as duplicates)', registers: [registry] })
  const gaps = new Counter({ name: 'pitboss_offset_gaps_total', help: 'offset gaps found in input partitions (records removed by the broker before being read)', labelNames: ['topic'], registers: [registry] })
  const late = new Counter({ name: 'pitboss_late_events_total', help: 'events that arrived after a detector window had closed (counted, logged and still processed)', labelNames: ['detector'], registers: [registry] })
  const inference = new Histogram({
    name: 'pitboss_model_inference_seconds', help: 'time the withdrawals of one batch waited for the model service (champion and shadows, one run per model)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25], registers: [registry],
  })
  const scoredRows = new Counter({ name: 'pitboss_model_scored_withdrawals_total', help: 'withdrawals scored by the model service', registers: [registry] })
  const threadHeapTotal = new Gauge({ name: 'pitboss_processing_thread_heap_size_total_bytes', help: 'V8 heap committed by each processing thread (pitboss_process_nodejs_heap_* is the main thread\'s)', labelNames: ['thread'], registers: [registry] })
  const threadHeapUsed = new Gauge({ name: 'pitboss_processing_thread_heap_size_used_bytes', help: 'V8 heap used by each processing thread', labelNames: ['thread'], registers: [registry] })
  const threadExternal = new Gauge({ name: 'pitboss_processing_thread_external_memory_bytes', help: 'memory outside the V8 heap held by each processing thread\'s objects (Buffers)', labelNames: ['thread'], registers: [registry] })
  const highWatermarkRequests = new Counter({ name: 'pitboss_high_watermark_requests_total', help: 'topics asked for their high watermarks by the event-time merge, by topic (each round asks its topics in one ListOffsets request)', labelNames: ['topic'], registers: [registry] })
  const highWatermarkRefresh = new Histogram({ name: 'pitboss_high_watermark_refresh_seconds', help: 'one round of the event-time merge\'s high-watermark refresh (one ListOffsets request for its topics; one round at a time)', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2], registers: [registry] })
  // librdkafka's own view of the outputs' produce stage (OutputProducerStatistics), per lane: its
  // counts are cumulative and its latencies per statistics interval, so the sums and counts add up
  // here and the percentiles are the last interval's.
  const outputRequests = new Counter({ name: 'pitboss_output_producer_requests_total', help: 'produce requests librdkafka sent for the engine\'s outputs (one partition each), by lane (primary; bulk: the link records)', labelNames: ['lane'], registers: [registry] })
  const outputMessages = new Counter({ name: 'pitboss_output_producer_messages_total', help: 'output messages librdkafka sent, by lane', labelNames: ['lane'], registers: [registry] })
  const outputQueued = new Gauge({ name: 'pitboss_output_producer_queued_messages', help: 'output messages handed to librdkafka and not yet acknowledged, at its last statistics report, by lane', labelNames: ['lane'], registers: [registry] })
  const outputLatencySum = new Counter({ name: 'pitboss_output_producer_latency_seconds_total', help: 'librdkafka\'s produce path, summed per lane and stage: queue (a message from hand-over until in a request), outbuf (a request waiting for its socket), rtt (a request\'s round trip to its answer)', labelNames: ['lane', 'stage'], registers: [registry] })
  const outputLatencyCount = new Counter({ name: 'pitboss_output_producer_latency_observations_total', help: 'what pitboss_output_producer_latency_seconds_total sums, per lane and stage: messages for queue, requests for outbuf and rtt', labelNames: ['lane', 'stage'], registers: [registry] })
  const outputLatencyWindow = new Gauge({ name: 'pitboss_output_producer_latency_window_seconds', help: 'librdkafka\'s produce path per lane and stage over its last statistics interval (PITBOSS_KAFKA_OUTPUT_STATS_INTERVAL_MS): p50, p99 and max', labelNames: ['lane', 'stage', 'statistic'], registers: [registry] })
  const lastOutputCounts = new Map<OutputLane, { requests: number; messages: number }>()
  const lag = new Gauge({ name: 'pitboss_consumer_lag', help: 'records behind the high watermark, per input partition', labelNames: ['topic', 'partition'], registers: [registry] })
  return {
    registry,
    eventsProcessed: (topic, count) => events.inc({ topic }, count),
    deadLetter: (reason) => deadLetters.inc({ reason }),
    decision: (outcome, latencyMs, stages) => {
      decisions.inc({ outcome })
      latency.observe({ outcome }, latencyMs / 1000)
      for (const [field, stage] of stageLabels) stageTime.observe({ stage }, Math.max(0, stages[field]) / 1000)
    },
    detectorHit: (detectorId) => detectorHits.inc({ detector: detectorId }),
    detectorError: (detectorId) => detectorErrors.inc({ detector: detectorId }),
    duplicateInput: () => duplicates.inc(),
    offsetGap: (topic) => gaps.inc({ topic }),
    lateEvent: (detectorId) => late.inc({ detector: detectorId }),
    modelInference: (elapsedMs, rows) => {
      inference.observe(elapsedMs / 1000)
      scoredRows.inc(rows)
    },
    consumerLag: (topic, partition, value) => lag.set({ topic, partition: String(partition) }, value),
    outputProducerStatistics: (statistics, lane) => {
      const last = lastOutputCounts.get(lane) ?? { requests: 0, messages: 0 }
      outputRequests.inc({ lane }, Math.max(0, statistics.produceRequests - last.requests))
      outputMessages.inc({ lane }, Math.max(0, statistics.messagesSent - last.messages))
      lastOutputCounts.set(lane, { requests: statistics.produceRequests, messages: statistics.messagesSent })
      outputQueued.set({ lane }, statistics.queuedMessages)
      for (const stage of OUTPUT_LATENCY_STAGES) {
        const window = statistics.latency[stage]
        outputLatencySum.inc({ lane, stage }, window.sumMs / 1000)
        outputLatencyCount.inc({ lane, stage }, window.count)
        outputLatencyWindow.set({ lane, stage, statistic: 'p50' }, window.p50Ms / 1000)
        outputLatencyWindow.set({ lane, stage, statistic: 'p99' }, window.p99Ms / 1000)
        outputLatencyWindow.set({ lane, stage, statistic: 'max' }, window.maxMs / 1000)
      }
    },
    highWatermarkRefresh: (topics, elapsedMs) => {
      for (const topic of topics) highWatermarkRequests.inc({ topic })
      highWatermarkRefresh.observe(elapsedMs / 1000)
    },
    forgetPartition: (topic, partition) => lag.remove({ topic, partition: String(partition) }),
    processingThreadMemory: (thread, memory) => {
      threadHeapTotal.set({ thread: String(thread) }, memory.heapTotalBytes)
      threadHeapUsed.set({ thread: String(thread) }, memory.heapUsedBytes)
      threadExternal.set({ thread: String(thread) }, memory.externalBytes)
    },
  }
}

/** Serves `/metrics` from a registry; resolves with the bound port. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end()
      return
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => response.writeHead(500).end(String(error)),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
