/**
 * An in-memory SchemaRegistryClient for unit tests. Like Confluent's registry it gives one global
 * id per distinct schema text (the same schema under two subjects shares the id) and ids from 1;
 * unlike it, it checks no compatibility at all: it is a stub, compatibility is the real
 * registry's job.
 *
 * `available = false` makes every call throw the retriable RISK_ERR_REGISTRY_UNAVAILABLE, as the
 * HTTP client does when the registry is down; `lookups` counts getSchemaById calls so tests can
 * see what the codec caches.
 *
 * Example:
 *   const registry = new InMemorySchemaRegistry()
 *   const id = await registry.register('casino.deposits.v1-value', schemaText)   // 1
 */
import { RiskError } from '../../core/errors.js'
import type { SchemaRegistryClient } from '../../schemas/codec.js'

export class InMemorySchemaRegistry implements SchemaRegistryClient {
  available = true
  lookups = 0
  private readonly idsBySchema = new Map<string, number>()
  private readonly schemasById = new Map<number, string>()
  readonly subjects = new Map<string, number[]>()

  async register(subject: string, schema: string): Promise<number> {
    this.assertAvailable()
    let id = this.idsBySchema.get(schema)
    if (id === undefined) {
      id = this.schemasById.size + 1
      this.idsBySchema.set(schema, id)
      this.schemasById.set(id, schema)
    }
    const versions = this.subjects.get(subject) ?? []
    if (!versions.includes(id)) versions.push(id)
    this.subjects.set(subject, versions)
    return id
  }

  async getSchemaById(id: number): Promise<string | null> {
    this.assertAvailable()
    this.lookups += 1
    return this.schemasById.get(id) ?? null
  }

  private assertAvailable(): void {
    if (!this.available) throw new RiskError('RISK_ERR_REGISTRY_UNAVAILABLE', 'in-memory registry switched off by the test')
  }
}
