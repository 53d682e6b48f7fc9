/**
 * What the STR routes need beside a case: the reporting entity, the local currency, the goAML
 * schema and where exports are written. To be completed by the governance routes (issue 8).
 */
export interface StrSettings {
  readonly schemaPath: string
  readonly exportDir: string
}
