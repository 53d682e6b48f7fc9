/**
 * Group commit for the engine's outputs when kafkajs produces them (librdkafka gathers by itself:
 * core/output-producer.ts, gathersRequests). The producer keeps one request in flight per broker (the
 * order of each output partition across retries), so every partition task's emit used to wait
 * for the emits of all the others, one broker round trip each: at a steady 5k events/s the eight
 * tasks' outputs queued behind one another and a decision waited several round trips for its
 * turn. Here the emits that arrive while a request is in flight wait together and go out as one
 * request when it is acknowledged, so an emit waits for at most the request in flight and its
 * own.
 *
 * Order: messages keep their submission order within each topic of a request, and a request
 * starts only after the previous one was acknowledged (or gave up). A task submits its next batch
 * only once its previous one is acknowledged, so its outputs stay in order. Every submission of a
 * request shares its outcome: acknowledged together, or failed together.
 */

export interface TopicMessages<M> {
  readonly topic: string
  readonly messages: readonly M[]
}

/** What one request sends: each topic's messages, gathered in submission order. */
export interface GatheredMessages<M> {
  topic: string
  messages: M[]
}

interface Waiting<M> {
  readonly topicMessages: ReadonlyArray<TopicMessages<M>>
  readonly bytes: number
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

export class OutputCoalescer<M> {
  private readonly waiting: Array<Waiting<M>> = []
  private inFlight = false

  /**
   * `send` produces one request (retrying as it sees fit); `maxBytes` bounds what one request
   * gathers (a submission larger than it goes alone), measured by `sizeOf`.
   */
  constructor(
    private readonly send: (topicMessages: Array<GatheredMessages<M>>) => Promise<void>,
    private readonly sizeOf: (message: M) => number,
    private readonly maxBytes: number,
  ) {}

  /** Resolves once the request carrying these messages is acknowledged; rejects if it failed. */
  submit(topicMessages: ReadonlyArray<TopicMessages<M>>): Promise<void> {
    let bytes = 0
    for (const { messages } of topicMessages) for (const message of messages) bytes += this.sizeOf(message)
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ topicMessages, bytes, resolve, reject })
      this.pump()
    })
  }

  /** Submissions waiting for the request in flight. */
  waitingCount(): number {
    return this.waiting.length
  }

  private pump(): void {
    if (this.inFlight || this.waiting.length === 0) return
    let count = 0
    let bytes = 0
    while (count < this.waiting.length) {
      const next = this.waiting[count] as Waiting<M>
      if (count > 0 && bytes + next.bytes > this.maxBytes) break
      bytes += next.bytes
      count += 1
    }
    const group = this.waiting.splice(0, count)
    const byTopic = new Map<string, M[]>()
    for (const { topicMessages } of group) {
      for (const { topic, messages } of topicMessages) {
        const gathered = byTopic.get(topic)
        if (gathered === undefined) byTopic.set(topic, [...messages])
        else for (const message of messages) gathered.push(message)
      }
    }
    this.inFlight = true
    this.send([...byTopic].map(([topic, messages]) => ({ topic, messages }))).then(
      () => {
        for (const waiting of group) waiting.resolve()
      },
      (error: unknown) => {
        for (const waiting of group) waiting.reject(error)
      },
    ).finally(() => {
      this.inFlight = false
      this.pump()
    })
  }
}
