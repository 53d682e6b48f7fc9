/**
 * The roles an API caller can hold (issue 8). A token carries them in its `roles` claim or,
 * Keycloak-style, in `realm_access.roles`; a route lists the roles that may call it.
 *
 * Example: `config: { roles: [API_ROLES.amlOfficer, API_ROLES.complianceOfficer] }`
 */
export const API_ROLES = {
  amlOfficer: 'aml_officer',
  complianceOfficer: 'compliance_officer',
  dataScientist: 'data_scientist',
  rulesAdmin: 'rules_admin',
  regulatorRead: 'regulator_read',
} as const

export type ApiRole = (typeof API_ROLES)[keyof typeof API_ROLES]

/** Every role, in a stable order (tests iterate it; OpenAPI lists it). */
export const ALL_API_ROLES: readonly ApiRole[] = Object.freeze(Object.values(API_ROLES))

export function isApiRole(value: unknown): value is ApiRole {
  return typeof value === 'string' && (ALL_API_ROLES as readonly string[]).includes(value)
}
