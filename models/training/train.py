#!/usr/bin/python3
"""Train pitboss's withdrawal model and ship it as ONNX with its manifest (issue 4).

Run with Debian's interpreter (python3-xgboost 1.7, python3-sklearn, python3-onnx import only there):

    npx tsx models/training/export-training-set.ts --out /tmp/training-set.csv --source simulator --seeds 101-110 --players 2000 --days 14
    /usr/bin/python3 models/training/train.py --data /tmp/training-set.csv --out models/shipped/withdrawal-typology-xgb-v2 \
        --model-id withdrawal-typology-xgb --model-version 2.0.0

What it does, deterministically for a seed:
  1. reads the CSV, the feature contract written beside it (<data>.contract.json) and, when present,
     the export's provenance (<data>.provenance.json: source, seeds, what the labels mean, command);
  2. splits *by player* (no player in two parts) into train 70 % / validation 15 % / test 15 %;
  3. trains xgboost binary:logistic (single thread, seeded);
  4. converts the trees from xgboost's JSON dump to an ONNX TreeEnsembleRegressor (margin, log-odds)
     followed by Sigmoid (probability) -- converters (onnxmltools, skl2onnx) are not installable here;
  5. checks the conversion: the ensemble is re-evaluated from the ONNX node attributes and must
     match xgboost's margins on every validation and test row (|diff| < 1e-5);
  6. calibrates the cut-off for a target false-positive rate on the validation part;
  7. writes model.onnx, manifest.json, metrics.json and golden.json (50 test rows with xgboost's
     probability, margin and Saabas contributions, which the TypeScript tests reproduce through
     onnxruntime-node without Python).
"""
import argparse
import csv
import hashlib
import json
import math
import os
import sys

import numpy as np
import onnx
import xgboost
from onnx import TensorProto, helper
from sklearn.metrics import log_loss, roc_auc_score

ID_COLUMNS = ['withdrawal_id', 'player_id', 'event_time_ms', 'label']


def read_training_set(path):
    with open(path, newline='') as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header[:4] != ID_COLUMNS:
            raise SystemExit(f'{path}: the first columns must be {ID_COLUMNS}, got {header[:4]}')
        ids, players, labels, rows = [], [], [], []
        for line in reader:
            ids.append(line[0])
            players.append(line[1])
            labels.append(int(line[3]))
            rows.append([float(value) for value in line[4:]])
    return header[4:], ids, np.array(players), np.array(labels, dtype=np.int32), np.array(rows, dtype=np.float32)


def split_by_player(players, seed):
    """70/15/15 by player: a player's withdrawals never straddle train and held-out data."""
    unique = np.unique(players)
    order = np.random.default_rng(seed).permutation(len(unique))
    shuffled = unique[order]
    cut_train, cut_validation = int(0.70 * len(unique)), int(0.85 * len(unique))
    part = {player: 0 for player in shuffled[:cut_train]}
    part.update({player: 1 for player in shuffled[cut_train:cut_validation]})
    part.update({player: 2 for player in shuffled[cut_validation:]})
    parts = np.array([part[player] for player in players])
    return parts == 0, parts == 1, parts == 2


def base_margin_of(booster):
    """xgboost keeps base_score as a probability; the trees add to its log-odds."""
    config = json.loads(booster.save_config())
    base_score = float(config['learner']['learner_model_param']['base_score'])
    return math.log(base_score / (1.0 - base_score))


def to_onnx(booster, feature_names, model_id, model_version, contract):
    """TreeEnsembleRegressor (sum of leaves + base margin) -> 'margin', then Sigmoid -> 'probability'."""
    index_of = {name: position for position, name in enumerate(feature_names)}
    attributes = {key: [] for key in ['nodes_treeids', 'nodes_nodeids', 'nodes_featureids', 'nodes_modes', 'nodes_values',
                                      'nodes_truenodeids', 'nodes_falsenodeids', 'nodes_missing_value_tracks_true', 'nodes_hitrates',
                                      'target_treeids', 'target_nodeids', 'target_ids', 'target_weights']}

    def visit(tree_id, node):
        attributes['nodes_treeids'].append(tree_id)
        attributes['nodes_nodeids'].append(node['nodeid'])
        # The node's cover (sum of hessians) rides in `nodes_hitrates` ("popularity of each node"):
        # models/explain.ts needs it for the expected value of each subtree (path attribution).
        attributes['nodes_hitrates'].append(float(node['cover']))
        if 'leaf' in node:
            for key, value in [('nodes_featureids', 0), ('nodes_modes', 'LEAF'), ('nodes_values', 0.0), ('nodes_truenodeids', 0),
                               ('nodes_falsenodeids', 0), ('nodes_missing_value_tracks_true', 0)]:
                attributes[key].append(value)
            attributes['target_treeids'].append(tree_id)
            attributes['target_nodeids'].append(node['nodeid'])
            attributes['target_ids'].append(0)
            attributes['target_weights'].append(float(node['leaf']))
            return
        # xgboost sends x < split_condition to `yes`; ONNX BRANCH_LT sends x < value to the true branch.
        attributes['nodes_featureids'].append(index_of[node['split']])
        attributes['nodes_modes'].append('BRANCH_LT')
        attributes['nodes_values'].append(float(node['split_condition']))
        attributes['nodes_truenodeids'].append(node['yes'])
        attributes['nodes_falsenodeids'].append(node['no'])
        attributes['nodes_missing_value_tracks_true'].append(1 if node['missing'] == node['yes'] else 0)
        for child in node['children']:
            visit(tree_id, child)

    for tree_id, dump in enumerate(booster.get_dump(dump_format='json', with_stats=True)):
        visit(tree_id, json.loads(dump))

    ensemble = helper.make_node('TreeEnsembleRegressor', ['features'], ['margin'], domain='ai.onnx.ml', name='trees',
                                n_targets=1, aggregate_function='SUM', post_transform='NONE',
                                base_values=[base_margin_of(booster)], **attributes)
    sigmoid = helper.make_node('Sigmoid', ['margin'], ['probability'], name='sigmoid')
    feature_count = len(feature_names)
    graph = helper.make_graph(
        [ensemble, sigmoid], model_id,
        [helper.make_tensor_value_info('features', TensorProto.FLOAT, ['batch', feature_count])],
        [helper.make_tensor_value_info('margin', TensorProto.FLOAT, ['batch', 1]),
         helper.make_tensor_value_info('probability', TensorProto.FLOAT, ['batch', 1])])
    model = helper.make_model(graph, producer_name='pitboss-train', opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid('ai.onnx.ml', 3)])
    model.ir_version = 8
    helper.set_model_props(model, {
        'pitboss.model_id': model_id, 'pitboss.model_version': model_version,
        'pitboss.feature_contract': f"{contract['id']}@{contract['version']}",
        'pitboss.feature_names': ','.join(feature_names),
    })
    onnx.checker.check_model(model)
    return model, attributes


def evaluate_attributes(attributes, base_margin, features):
    """Margins computed from the ONNX attributes alone: an independent check of the conversion."""
    trees = {}
    for position, tree_id in enumerate(attributes['nodes_treeids']):
        trees.setdefault(tree_id, {})[attributes['nodes_nodeids'][position]] = position
    leaf_weight = {(tree, node): weight for tree, node, weight in zip(attributes['target_treeids'], attributes['target_nodeids'], attributes['target_weights'])}
    margins = np.full(len(features), base_margin, dtype=np.float64)
    for row_index, row in enumerate(features):
        for tree_id, nodes in trees.items():
            position = nodes[0]
            while attributes['nodes_modes'][position] != 'LEAF':
                value = row[attributes['nodes_featureids'][position]]
                if math.isnan(value):
                    go_true = attributes['nodes_missing_value_tracks_true'][position] == 1
                else:
                    go_true = value < np.float32(attributes['nodes_values'][position])
                position = nodes[attributes['nodes_truenodeids'][position] if go_true else attributes['nodes_falsenodeids'][position]]
            margins[row_index] += leaf_weight[(tree_id, attributes['nodes_nodeids'][position])]
    return margins


def cutoff_for_false_positive_rate(probabilities, labels, target_rate):
    """The lowest float32 cut-off (flag when probability >= cut-off) whose false-positive rate is <= target."""
    negatives = np.sort(probabilities[labels == 0].astype(np.float32))[::-1]
    allowed = int(math.floor(target_rate * len(negatives)))
    if allowed >= len(negatives):
        return float(np.float32(0.0))
    return float(np.nextafter(negatives[allowed], np.float32(np.inf)))


def rates_at(probabilities, labels, cutoff):
    flagged = probabilities >= cutoff
    negatives, positives = labels == 0, labels == 1
    true_positives = int(np.sum(flagged & positives))
    return {
        'rows': int(len(labels)), 'positives': int(np.sum(positives)),
        'falsePositiveRate': float(np.sum(flagged & negatives) / max(1, np.sum(negatives))),
        'truePositiveRate': float(true_positives / max(1, np.sum(positives))),
        'precision': float(true_positives / max(1, np.sum(flagged))),
        'flaggedShare': float(np.mean(flagged)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--model-id', default='withdrawal-typology-xgb')
    parser.add_argument('--model-version', default='2.0.0')
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--rounds', type=int, default=60)
    parser.add_argument('--max-depth', type=int, default=4)
    parser.add_argument('--target-false-positive-rate', type=float, default=0.01)
    parser.add_argument('--golden-rows', type=int, default=50)
    arguments = parser.parse_args()

    with open(f'{arguments.data}.contract.json') as handle:
        contract = json.load(handle)
    # Exports before the simulator source wrote no provenance: they were the fixture's burst labels.
    provenance = {'source': 'fixture', 'command': 'npx tsx models/training/export-training-set.ts --source fixture --out /tmp/training-set.csv',
                  'labels': 'SYNTHETIC: planted withdrawal bursts of bench/fixture.ts (a session with >= 2 requests); not case outcomes'}
    if os.path.exists(f'{arguments.data}.provenance.json'):
        with open(f'{arguments.data}.provenance.json') as handle:
            provenance = json.load(handle)
    feature_names, ids, players, labels, features = read_training_set(arguments.data)
    if feature_names != [feature['name'] for feature in contract['features']]:
        raise SystemExit('the CSV columns and the feature contract disagree: re-export the training set')
    train, validation, test = split_by_player(players, arguments.seed)

    params = {'objective': 'binary:logistic', 'max_depth': arguments.max_depth, 'eta': 0.15, 'subsample': 0.9,
              'colsample_bytree': 0.9, 'min_child_weight': 5, 'seed': arguments.seed, 'nthread': 1,
              'eval_metric': 'logloss', 'tree_method': 'exact'}
    matrix = lambda mask: xgboost.DMatrix(features[mask], label=labels[mask], feature_names=feature_names, missing=np.nan)
    booster = xgboost.train(params, matrix(train), num_boost_round=arguments.rounds)

    model, attributes = to_onnx(booster, feature_names, arguments.model_id, arguments.model_version, contract)
    held_out = validation | test
    xgboost_margins = booster.predict(matrix(held_out), output_margin=True)
    converted = evaluate_attributes(attributes, base_margin_of(booster), features[held_out])
    conversion_error = float(np.max(np.abs(converted - xgboost_margins)))
    if conversion_error > 1e-5:
        raise SystemExit(f'conversion check failed: ONNX attributes and xgboost differ by {conversion_error} in margin')

    probabilities = {name: booster.predict(matrix(mask)) for name, mask in [('train', train), ('validation', validation), ('test', test)]}
    cutoff = cutoff_for_false_positive_rate(probabilities['validation'], labels[validation], arguments.target_false_positive_rate)
    metrics = {}
    for name, mask in [('train', train), ('validation', validation), ('test', test)]:
        metrics[name] = {'auc': float(roc_auc_score(labels[mask], probabilities[name])),
                         'logLoss': float(log_loss(labels[mask], probabilities[name].astype(np.float64))),
                         **rates_at(probabilities[name], labels[mask], cutoff)}
    metrics['conversionMaxMarginError'] = conversion_error

    os.makedirs(arguments.out, exist_ok=True)
    model_bytes = model.SerializeToString()
    with open(os.path.join(arguments.out, 'model.onnx'), 'wb') as handle:
        handle.write(model_bytes)

    test_rows = np.flatnonzero(test)[:arguments.golden_rows]
    golden_matrix = xgboost.DMatrix(features[test_rows], feature_names=feature_names, missing=np.nan)
    saabas = booster.predict(golden_matrix, pred_contribs=True, approx_contribs=True)
    golden = {
        'modelId': arguments.model_id, 'modelVersion': arguments.model_version,
        'note': 'probability/margin/contributions from xgboost itself (Saabas = pred_contribs approx_contribs); the last contribution is the bias',
        'rows': [{'withdrawalId': ids[row], 'features': [None if math.isnan(value) else float(value) for value in features[row]],
                  'probability': float(probability), 'margin': float(margin), 'saabasContributions': [float(value) for value in contributions]}
                 for row, probability, margin, contributions in zip(test_rows, booster.predict(golden_matrix), booster.predict(golden_matrix, output_margin=True), saabas)],
    }
    manifest = {
        'modelId': arguments.model_id,
        'modelVersion': arguments.model_version,
        'format': 'onnx',
        'file': 'model.onnx',
        'sha256': hashlib.sha256(model_bytes).hexdigest(),
        'input': {'name': 'features', 'type': 'float32', 'shape': ['batch', len(feature_names)]},
        'outputs': {'margin': 'margin', 'probability': 'probability'},
        'featureContract': contract,
        'calibration': {'cutoffProbability': cutoff, 'targetFalsePositiveRate': arguments.target_false_positive_rate,
                        'rule': 'flag when probability >= cutoffProbability', 'chosenOn': 'validation (held-out players)',
                        'validation': metrics['validation'], 'test': metrics['test']},
        'labels': provenance['labels'],
        'training': {'trainer': f'xgboost {xgboost.__version__}', 'params': params, 'rounds': arguments.rounds,
                     'split': 'by player 70/15/15, seeded', 'rows': int(len(labels)), 'positives': int(np.sum(labels)),
                     'data': os.path.basename(arguments.data),
                     'source': {key: value for key, value in provenance.items() if key not in ('labels', 'command')},
                     'command': provenance['command'] + ' && /usr/bin/python3 models/training/train.py ' + ' '.join(sys.argv[1:])},
        'metrics': 'metrics.json',
    }
    for name, content in [('manifest.json', manifest), ('metrics.json', metrics), ('golden.json', golden)]:
        with open(os.path.join(arguments.out, name), 'w') as handle:
            json.dump(content, handle, indent=2)
            handle.write('\n')
    print(json.dumps({'cutoff': cutoff, 'test': metrics['test'], 'conversionMaxMarginError': conversion_error}, indent=2))


if __name__ == '__main__':
    main()
