/**
 * Where the rule sets live for the rules admins' routes: the active file the engine watches and
 * the folder of every version ever proposed. To be completed by the governance routes (issue 8).
 */
export interface RuleSetFiles {
  /** The file the engines watch (PITBOSS_RULE_SET). */
  readonly activePath: string
}
