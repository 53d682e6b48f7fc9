/**
 * The read model the officers' and regulators' routes query: decisions, rule executions, model
 * scores, alerts, events and withdrawal transitions as the ClickHouse sink wrote them
 * (docs/clickhouse.md). To be completed by the operations routes (issue 8).
 */
export interface ReadModel {
  /** True when the store behind it answers. */
  ping(): Promise<boolean>
}
