/**
 * Back-pressure for one partition task: which of its topics the consumer should pause or resume.
 *
 * While the task holds more than `limit` records, fetching pauses for the topics that have
 * records buffered ahead of the processing. A paused topic resumes once the task is back under
 * the limit, and also as soon as it has nothing buffered ahead: the event-time merge may be
 * waiting for exactly that topic's next record (a blocking topic with an empty queue), and while
 * the other topics still hold more than the limit, a topic resumed only under the limit would
 * never be fetched again — the partition stalled for good.
 */
import type { InputTopicKey } from '../../core/topics.js'

export interface BufferedPositions {
  bufferedCount(): number
  /** After the last buffered record of the topic. */
  fetchPosition(topic: InputTopicKey): bigint
  /** The next record of the topic to process. */
  nextOffset(topic: InputTopicKey): bigint
}

export interface BackpressureMoves {
  readonly pause: InputTopicKey[]
  readonly resume: InputTopicKey[]
}

export function backpressureMoves(task: BufferedPositions, limit: number, topics: Iterable<InputTopicKey>, isPaused: (topic: InputTopicKey) => boolean): BackpressureMoves {
  const over = task.bufferedCount() > limit
  const pause: InputTopicKey[] = []
  const resume: InputTopicKey[] = []
  for (const topic of topics) {
    const ahead = task.fetchPosition(topic) > task.nextOffset(topic)
    const paused = isPaused(topic)
    if (over && ahead && !paused) pause.push(topic)
    else if (paused && (!over || !ahead)) resume.push(topic)
  }
  return { pause, resume }
}
