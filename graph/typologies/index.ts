import type { ComponentView } from '../graph-reader.js'
import type { GraphParams } from '../params.js'
import type { ClusterAlert, TypologyId } from '../types.js'
import { detectBonusAbuseFarms, detectMultiAccountFarms, detectReferralRings } from './identity.js'
import { detectCycles, detectFans, detectScatterGather, type CycleSearchStats } from './money-flows.js'
import { detectTableCollusion } from './table-collusion.js'

export { detectBonusAbuseFarms, detectMultiAccountFarms, detectReferralRings } from './identity.js'
export { detectCycles, detectFans, detectScatterGather, type CycleSearchStats } from './money-flows.js'
export { detectTableCollusion } from './table-collusion.js'

/** The enabled typologies on one component, in a fixed order. */
export function runTypologies(view: ComponentView, params: GraphParams, stats: CycleSearchStats): ClusterAlert[] {
  const enabled = new Set<TypologyId>(params.enabledTypologies)
  const on = (...typologies: TypologyId[]): boolean => typologies.some((typology) => enabled.has(typology))
  const alerts: ClusterAlert[] = []
  if (on('multi_account_farm')) alerts.push(...detectMultiAccountFarms(view, params))
  if (on('referral_ring')) alerts.push(...detectReferralRings(view, params))
  if (on('bonus_abuse_farm')) alerts.push(...detectBonusAbuseFarms(view, params))
  if (on('table_collusion_opposing_bets', 'table_collusion_chip_flow')) alerts.push(...detectTableCollusion(view, params))
  if (on('fan_in')) alerts.push(...detectFans(view, params, 'in'))
  if (on('fan_out')) alerts.push(...detectFans(view, params, 'out'))
  if (on('cycle')) alerts.push(...detectCycles(view, params, stats))
  if (on('scatter_gather')) alerts.push(...detectScatterGather(view, params))
  return alerts.filter((alert) => enabled.has(alert.typology))
}
