/**
 * A consumer-group assigner that keeps co-partitioned topics together: partition p of every
 * subscribed topic goes to the same member, so one partition task sees all of a player's
 * events. kafkajs's default round-robin assigner spreads topic-partitions independently and
 * would break that.
 *
 * Example: members [a, b], topics deposits and withdrawals with 4 partitions each ->
 *   a: { deposits: [0, 2], withdrawals: [0, 2] }, b: { deposits: [1, 3], withdrawals: [1, 3] }
 *
 * Topics with different partition counts are a deployment error: assigning them anyway would
 * silently split players, so the assigner logs it and uses the smallest count (the extra
 * partitions stay unassigned and their lag shows it).
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs'

export const CO_PARTITIONED_ASSIGNER_NAME = 'PitbossCoPartitioned'

export const coPartitionedAssigner: PartitionAssigner = ({ cluster, logger }) => ({
  name: CO_PARTITIONED_ASSIGNER_NAME,
  version: 1,
  async assign({ members, topics }) {
    const memberIds = members.map((member) => member.memberId).sort()
    const counts = topics.map((topic) => cluster.findTopicPartitionMetadata(topic).length)
    const partitionCount = Math.min(...counts)
    if (new Set(counts).size > 1) {
      logger.error('input topics are not co-partitioned; extra partitions left unassigned', { topics, counts })
    }
    const assignment = new Map<string, Record<string, number[]>>(memberIds.map((memberId) => [memberId, Object.fromEntries(topics.map((topic) => [topic, [] as number[]]))]))
    for (let partition = 0; partition < partitionCount; partition += 1) {
      const memberId = memberIds[partition % memberIds.length] as string
      const topicsOfMember = assignment.get(memberId) as Record<string, number[]>
      for (const topic of topics) (topicsOfMember[topic] as number[]).push(partition)
    }
    return memberIds.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: assignment.get(memberId) as Record<string, number[]>, userData: Buffer.alloc(0) }),
    }))
  },
  protocol({ topics }) {
    return { name: CO_PARTITIONED_ASSIGNER_NAME, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) }
  },
})
