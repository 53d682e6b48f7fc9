/**
 * One real name from the OFAC SDN list in the reference data, for the planted "sanctioned name"
 * typology. The list's individuals are written "LAST, First Middle"; the seed picks one.
 * Reading the file is the only I/O of the simulator, kept out of the generator so that stays pure.
 *
 * Example: loadSanctionedName(loadConfig().referenceDataDir, 7) -> { firstName: 'Manuel Antonio', lastName: 'NORIEGA' }
 */
import fs from 'node:fs'
import path from 'node:path'
import { RiskError } from '../../core/errors.js'
import { SeededRandom } from './random.js'
import type { SanctionedName } from './typologies.js'

export const SDN_LIST_PATH = path.join('sanctions', 'ofac-sdn-2021', 'sdn.csv')

export function loadSanctionedName(referenceDataDir: string, seed: number): SanctionedName {
  const filePath = path.join(referenceDataDir, SDN_LIST_PATH)
  if (!fs.existsSync(filePath)) throw new RiskError('RISK_ERR_CONFIG_INVALID', `the OFAC SDN list is not at ${filePath}; set PITBOSS_REFERENCE_DATA_DIR to the folder holding ${SDN_LIST_PATH}`, { path: filePath })
  const names: SanctionedName[] = []
  // Rows: ent_num,"SDN_Name","SDN_Type",...; only individuals written with a comma split into last and first names.
  for (const match of fs.readFileSync(filePath, 'latin1').matchAll(/^\d+,"([^",]+), ([^"]+)","individual"/gm)) {
    names.push({ lastName: match[1] as string, firstName: match[2] as string })
  }
  if (names.length === 0) throw new RiskError('RISK_ERR_CONFIG_INVALID', `no individual found in ${filePath}; is it the OFAC SDN CSV?`, { path: filePath })
  return new SeededRandom(seed).fork('sanctioned-name').pick(names)
}
