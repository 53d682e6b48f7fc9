import type { SchemaRegistryClient } from '../../schemas/codec.js'

/** An in-memory schema registry (ids by schema text), for unit tests that run without the real one. */
export function memoryRegistry(): SchemaRegistryClient & { readonly schemas: Map<number, string> } {
  const schemas = new Map<number, string>()
  const ids = new Map<string, number>()
  return {
    schemas,
    async register(_subject, schema) {
      let id = ids.get(schema)
      if (id === undefined) {
        id = schemas.size + 1
        ids.set(schema, id)
        schemas.set(id, schema)
      }
      return id
    },
    async getSchemaById(id) {
      return schemas.get(id) ?? null
    },
  }
}
