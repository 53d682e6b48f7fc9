/**
 * The outbox relay: publishes what the case store's outbox holds (case events, labels) and
 * deletes each entry only after the publisher says the broker acknowledged it. A crash between
 * the two re-publishes the entry on restart: delivery is at least once, in outbox order, and
 * consumers de-duplicate by eventId / labelId.
 *
 * The relay wakes when a commit appends to the outbox, and polls as a safety net. A failing
 * publish is retried with backoff (capped at 5 s); nothing is deleted meanwhile.
 *
 * Example:
 *   const relay = new OutboxRelay({ source: cases.outbox, publish: (messages) => sendToKafka(messages), logger })
 *   relay.start()
 *   ...
 *   await relay.stop()   // finishes the batch in hand
 */
import type { Logger } from '../core/logger.js'
import type { OutboxSource } from './store.js'
import type { OutboxMessage } from './types.js'

/** Publishes messages in order and resolves only once the broker acknowledged all of them. */
export type OutboxPublisher = (messages: readonly OutboxMessage[]) => Promise<void>

export interface OutboxRelayOptions {
  readonly source: OutboxSource
  readonly publish: OutboxPublisher
  readonly logger: Logger
  /** Most messages per publish (default 500). */
  readonly batchSize?: number
  /** Look at the outbox at least this often even without a wake-up (default 1000 ms). */
  readonly pollIntervalMs?: number
  readonly onPublished?: (count: number) => void
}

export class OutboxRelay {
  private running = false
  private loop: Promise<void> | null = null
  private wake: (() => void) | null = null
  private signalled = false
  private unsubscribe: (() => void) | null = null
  private readonly batchSize: number
  private readonly pollIntervalMs: number

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500
    this.pollIntervalMs = options.pollIntervalMs ?? 1000
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.unsubscribe = this.options.source.onAppend(() => this.signal())
    this.loop = this.run()
  }

  /** Stops after the batch in hand; what is left stays in the outbox for the next start. */
  async stop(): Promise<void> {
    this.running = false
    this.unsubscribe?.()
    this.unsubscribe = null
    this.signal()
    await this.loop
    this.loop = null
  }

  /**
   * Publishes everything in the outbox now; returns how many messages went out. Throws what
   * the publisher throws (for callers that want the error rather than the retry loop).
   */
  async drain(): Promise<number> {
    let published = 0
    for (;;) {
      const messages = await this.options.source.readOutbox(this.batchSize)
      if (messages.length === 0) return published
      await this.options.publish(messages)
      await this.options.source.removeOutbox(messages.map((message) => message.outboxKey))
      published += messages.length
      this.options.onPublished?.(messages.length)
    }
  }

  private signal(): void {
    this.signalled = true
    this.wake?.()
  }

  private async run(): Promise<void> {
    let failures = 0
    while (this.running) {
      this.signalled = false
      try {
        await this.drain()
        failures = 0
      } catch (error) {
        failures += 1
        const backoffMs = Math.min(5000, 100 * 2 ** Math.min(failures, 6))
        this.options.logger.warn({ err: error, attempt: failures, backoffMs }, 'publishing the case outbox failed; retrying (entries stay until the broker acknowledges them)')
        await this.pause(backoffMs, false)
        continue
      }
      if (this.running && !this.signalled) await this.pause(this.pollIntervalMs, true)
    }
  }

  /** Waits for the time, or less when stopped (or, if `wakeable`, when a commit appends). */
  private pause(ms: number, wakeable: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wake = () => {
        if (wakeable || !this.running) done()
      }
    })
  }
}
