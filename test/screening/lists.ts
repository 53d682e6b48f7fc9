/** Paths of the real lists in the shared data folder, and one cached load per test file. */
import path from 'node:path'
import { loadConfig } from '../../core/config.js'
import { loadOfacList } from '../../screening/loaders/ofac.js'
import { loadUnConsolidatedList } from '../../screening/loaders/un.js'
import type { LoadedList } from '../../screening/types.js'

export const SANCTIONS_DIRECTORY = path.join(loadConfig().referenceDataDir, 'sanctions')
export const FIXTURES_DIRECTORY = new URL('./fixtures/', import.meta.url).pathname

export const loadSdn = (): Promise<LoadedList> => loadOfacList({
  listId: 'ofac-sdn',
  primaryPath: `${SANCTIONS_DIRECTORY}/ofac-sdn-2021/sdn.csv`,
  aliasPath: `${SANCTIONS_DIRECTORY}/ofac-sdn-2021/alt.csv`,
  addressPath: `${SANCTIONS_DIRECTORY}/ofac-sdn-2021/add.csv`,
})

export const loadConsolidated = (): Promise<LoadedList> => loadOfacList({
  listId: 'ofac-consolidated',
  primaryPath: `${SANCTIONS_DIRECTORY}/ofac-consolidated-nonsdn/cons_prim.csv`,
  aliasPath: `${SANCTIONS_DIRECTORY}/ofac-consolidated-nonsdn/cons_alt.csv`,
  addressPath: `${SANCTIONS_DIRECTORY}/ofac-consolidated-nonsdn/cons_add.csv`,
})

export const loadUn = (): Promise<LoadedList> => loadUnConsolidatedList({ listId: 'un-consolidated', path: `${SANCTIONS_DIRECTORY}/un/UN_consolidated.xml` })
