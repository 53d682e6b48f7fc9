/**
 * Explanations computed from the tree ensemble itself, read from the ONNX model's
 * `TreeEnsembleRegressor` attributes (issue 4, item 5): path attribution à la Saabas.
 *
 * For each tree, every node has an expected value E(node): the cover-weighted mean of the leaves
 * below it (covers ride in `nodes_hitrates`, written by models/training/train.py). Walking the
 * row's path from the root, each split credits its feature with E(child) − E(parent). So for one
 * row, per tree: leaf = E(root) + Σ credits, and over the ensemble
 *
 *   margin (log-odds) = baseValue + Σ contributions,   baseValue = base_values[0] + Σ E(root)
 *
 * exactly (up to float rounding) — what xgboost's `pred_contribs=True, approx_contribs=True`
 * computes. Positive contributions push towards the positive class (risk).
 *
 * Example:
 *   const explainer = TreeExplainer.fromOnnx(readOnnxModel(bytes), FEATURE_NAMES)
 *   const explanation = explainer.explain(vector)        // { margin, baseValue, contributions }
 *   explainer.top(explanation, 3)  // [{ feature: 'withdrawals_24h_count', value: 2, contribution: 1.9 }, ...]
 */
import { RiskError } from '../core/errors.js'
import type { OnnxModel } from './onnx-model.js'

interface Tree {
  /** Per node (local index): feature column, -1 for a leaf. */
  readonly featureIds: Int32Array
  readonly thresholds: Float32Array
  readonly trueChild: Int32Array
  readonly falseChild: Int32Array
  readonly missingTracksTrue: Uint8Array
  /** Leaf weight for leaves; E(node) for every node. */
  readonly expected: Float64Array
  readonly root: number
}

export interface Explanation {
  /** Log-odds: the ensemble's raw output for the row. */
  readonly margin: number
  /** The margin of a row that carries no information: base value plus every tree's E(root). */
  readonly baseValue: number
  /** One per feature, in contract order; sums to margin − baseValue. */
  readonly contributions: Float64Array
}

export interface FeatureContribution {
  readonly feature: string
  readonly value: number
  readonly contribution: number
}

const numbers = (model: OnnxModel, attributes: Record<string, unknown>, name: string): readonly number[] => {
  const value = attributes[name]
  if (!Array.isArray(value)) throw new RiskError('RISK_ERR_MODEL_MISMATCH', `the tree ensemble has no ${name} attribute; explanations need it (re-export with models/training/train.py)`, { model: model.metadata['pitboss.model_id'] ?? null })
  return value as number[]
}

export class TreeExplainer {
  private constructor(
    private readonly trees: readonly Tree[],
    readonly baseValue: number,
    readonly featureNames: readonly string[],
  ) {}

  /** Reads the single TreeEnsembleRegressor of `model`. Refuses models without covers or with another shape. */
  static fromOnnx(model: OnnxModel, featureNames: readonly string[]): TreeExplainer {
    const node = model.nodes.find((candidate) => candidate.opType === 'TreeEnsembleRegressor')
    if (node === undefined) throw new RiskError('RISK_ERR_MODEL_MISMATCH', 'the model holds no TreeEnsembleRegressor node; only that form is explained', {})
    const attributes = node.attributes as Record<string, unknown>
    if (attributes.aggregate_function !== undefined && attributes.aggregate_function !== 'SUM') {
      throw new RiskError('RISK_ERR_MODEL_MISMATCH', `the tree ensemble aggregates with ${String(attributes.aggregate_function)}; only SUM is explained`, {})
    }
    const treeIds = numbers(model, attributes, 'nodes_treeids')
    const nodeIds = numbers(model, attributes, 'nodes_nodeids')
    const featureIds = numbers(model, attributes, 'nodes_featureids')
    const values = numbers(model, attributes, 'nodes_values')
    const trueIds = numbers(model, attributes, 'nodes_truenodeids')
    const falseIds = numbers(model, attributes, 'nodes_falsenodeids')
    const covers = numbers(model, attributes, 'nodes_hitrates')
    const missing = numbers(model, attributes, 'nodes_missing_value_tracks_true')
    const modes = attributes.nodes_modes as readonly string[]
    const baseValues = (attributes.base_values as readonly number[] | undefined) ?? [0]

    // Group nodes per tree, indexed by their node id.
    const perTree = new Map<number, Map<number, number>>()
    treeIds.forEach((treeId, position) => {
      const nodes = perTree.get(treeId) ?? new Map<number, number>()
      nodes.set(nodeIds[position] as number, position)
      perTree.set(treeId, nodes)
    })
    const leafWeight = new Map<string, number>()
    numbers(model, attributes, 'target_treeids').forEach((treeId, position) => {
      const weight = (attributes.target_weights as readonly number[])[position] as number
      const key = `${treeId}:${(attributes.target_nodeids as readonly number[])[position]}`
      leafWeight.set(key, (leafWeight.get(key) ?? 0) + weight)
    })

    const trees: Tree[] = []
    let baseValue = baseValues[0] ?? 0
    for (const [treeId, nodes] of [...perTree].sort((a, b) => a[0] - b[0])) {
      const size = nodes.size
      const local = new Map<number, number>([...nodes.keys()].map((nodeId, index) => [nodeId, index]))
      const tree: Tree = {
        featureIds: new Int32Array(size), thresholds: new Float32Array(size), trueChild: new Int32Array(size), falseChild: new Int32Array(size),
        missingTracksTrue: new Uint8Array(size), expected: new Float64Array(size), root: local.get(0) ?? 0,
      }
      const cover = new Float64Array(size)
      for (const [nodeId, position] of nodes) {
        const index = local.get(nodeId) as number
        const isLeaf = modes[position] === 'LEAF'
        if (!isLeaf && modes[position] !== 'BRANCH_LT') throw new RiskError('RISK_ERR_MODEL_MISMATCH', `tree ${treeId} uses split mode ${String(modes[position])}; only BRANCH_LT (xgboost) is explained`, {})
        tree.featureIds[index] = isLeaf ? -1 : (featureIds[position] as number)
        tree.thresholds[index] = values[position] as number
        tree.trueChild[index] = isLeaf ? -1 : (local.get(trueIds[position] as number) as number)
        tree.falseChild[index] = isLeaf ? -1 : (local.get(falseIds[position] as number) as number)
        tree.missingTracksTrue[index] = missing[position] === 1 ? 1 : 0
        cover[index] = covers[position] as number
        if (isLeaf) tree.expected[index] = leafWeight.get(`${treeId}:${nodeId}`) ?? 0
      }
      // Expected value of each inner node, children first (post-order from the root).
      const fill = (index: number): void => {
        const left = tree.trueChild[index] as number
        if (left < 0) return
        const right = tree.falseChild[index] as number
        fill(left)
        fill(right)
        const total = (cover[left] as number) + (cover[right] as number)
        tree.expected[index] = total > 0 ? ((cover[left] as number) * (tree.expected[left] as number) + (cover[right] as number) * (tree.expected[right] as number)) / total : ((tree.expected[left] as number) + (tree.expected[right] as number)) / 2
      }
      fill(tree.root)
      baseValue += tree.expected[tree.root] as number
      trees.push(tree)
    }
    const featureCount = Math.max(-1, ...featureIds) + 1
    if (featureCount > featureNames.length) throw new RiskError('RISK_ERR_MODEL_MISMATCH', `the trees split on feature ${featureCount - 1} but the contract has ${featureNames.length} features`, {})
    return new TreeExplainer(trees, baseValue, featureNames)
  }

  /** Contributions of one row (`features` in contract order; NaN = missing). */
  explain(features: ArrayLike<number>): Explanation {
    const contributions = new Float64Array(this.featureNames.length)
    let margin = this.baseValue
    for (const tree of this.trees) {
      let index = tree.root
      for (;;) {
        const feature = tree.featureIds[index] as number
        if (feature < 0) break
        const value = features[feature] as number
        // Same rule as ONNX Runtime's BRANCH_LT on float32 inputs.
        const goTrue = Number.isNaN(value) ? tree.missingTracksTrue[index] === 1 : Math.fround(value) < (tree.thresholds[index] as number)
        const next = (goTrue ? tree.trueChild[index] : tree.falseChild[index]) as number
        const credit = (tree.expected[next] as number) - (tree.expected[index] as number)
        contributions[feature] = (contributions[feature] as number) + credit
        margin += credit
        index = next
      }
    }
    return { margin, baseValue: this.baseValue, contributions }
  }

  /** The `count` largest contributions by absolute value, with the feature's value. */
  top(features: ArrayLike<number>, explanation: Explanation, count = 5): FeatureContribution[] {
    return Array.from(explanation.contributions, (contribution, index) => ({ feature: this.featureNames[index] as string, value: features[index] as number, contribution }))
      .filter((entry) => entry.contribution !== 0)
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.feature.localeCompare(b.feature))
      .slice(0, count)
  }
}
