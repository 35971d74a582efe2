"""The fitted XGBoost-style model: `Booster` (what `get_booster()` returns) and its weak learners.

A Booster is an objective, a base margin and a learner; the estimator's fit loop asks the learner
for one more round per iteration (`boost_round`) and predicts through `Booster.predict_margin`.
The learner is a seam, as xgboost's `booster` parameter: `GBTree` (booster="gbtree") grows one
tree per output per round on the shared engine. Another learner (gblinear: coordinate descent on
a linear model; dart: dropout of earlier trees) implements the same methods (boost_round,
margin, apply, trees, copy, to_config, from_config; `rounds` for the round count) and registers
in LEARNERS, without touching GBTree.

`save_model` writes JSON of our own (not xgboost's schema) from which `load_model` restores
bit-identical predictions; `get_dump` and `get_score` follow xgboost's text dump and importance
vocabulary.
"""

import json

import numpy as np
from numba import njit, prange

from ..tree._classes import MAX_INT
from ..tree._exact import grow_tree_exact
from ..tree._grower import grow_tree
from ..tree._tree import Tree, apply_forest, pack_trees, predict_forest, tree_lists
from ..tree._types import PREDICT_NODE_DTYPE
from ..utils._parallel import numba_threads
from ._base import scaled_output_values
from ._objectives import objective_from_config

FORMAT = "skext-xgboost-json-1"
IMPORTANCE_TYPES = ("gain", "weight", "cover", "total_gain", "total_cover")
_TREE_ARRAYS = ("value", "impurity", "weighted_n_node_samples", "n_node_samples")


def _tree_to_dict(tree):
    return {"threshold": tree.nodes["threshold"].tolist(), "left": tree.nodes["left"].tolist(),
            "feature": tree.nodes["feature"].tolist(), "max_depth": int(tree.max_depth),
            **{name: getattr(tree, name).tolist() for name in _TREE_ARRAYS}}


def _tree_from_dict(d):
    tree = Tree()
    nodes = np.empty(len(d["left"]), dtype=PREDICT_NODE_DTYPE)
    nodes["threshold"] = d["threshold"]
    nodes["left"] = d["left"]
    nodes["feature"] = d["feature"]
    tree.nodes = nodes
    tree.value = np.asarray(d["value"], dtype=np.float64).reshape(len(nodes), -1)
    tree.impurity = np.asarray(d["impurity"], dtype=np.float64)
    tree.weighted_n_node_samples = np.asarray(d["weighted_n_node_samples"], dtype=np.float64)
    tree.n_node_samples = np.asarray(d["n_node_samples"], dtype=np.int64)
    tree.max_depth = int(d["max_depth"])
    return tree


@njit(cache=True, nogil=True, parallel=True)
def _weighted_pairs(gradients, hessians, weights, k, out):
    """out[i] = (w_i g_ik, w_i h_ik): the columns of output k, weighted, into a buffer reused
    every round (out (n, 2) float64, out; gradients and hessians may be its own columns)."""
    for i in prange(out.shape[0]):
        out[i, 0] = weights[i] * gradients[i, k]
        out[i, 1] = weights[i] * hessians[i, k]


@njit(cache=True, nogil=True, parallel=True)
def _add_leaf_values(margin, k, learning_rate, values, leaf):
    """margin[i, k] += learning_rate * values[leaf[i]] (in/out margin), without temporaries."""
    for i in prange(margin.shape[0]):
        margin[i, k] += learning_rate * values[leaf[i]]


class GBTree:
    """booster="gbtree": each round, one tree per output grown on the objective's gradients and
    hessians; the margin adds learning_rate times each tree's leaf value.

    rounds : list of lists of Tree, rounds[i][k] the tree of round i for output k.
    learning_rates : list of float, each round's shrinkage (continued training may change it).
    """

    name = "gbtree"

    def __init__(self, n_outputs, rounds=None, learning_rates=None):
        self.n_outputs = n_outputs
        self.rounds = [] if rounds is None else rounds
        self.learning_rates = [] if learning_rates is None else learning_rates
        self._values = None

    def boost_round(self, data, gradients, hessians, margin, rng, learning_rate):
        """Grow this round's trees and add learning_rate times them to `margin` (n_samples, K)
        (in/out).

        data: the fit's _RoundData (binned X, rows, feature sampling, grower settings, the
        objective, labels and weights for adaptive leaves)."""
        rows = data.draw_rows(rng)
        pool, level_masks, level_max_features = data.draw_features(rng)
        trees = []
        for k in range(self.n_outputs):
            stats = data.stats
            _weighted_pairs(gradients, hessians, data.sample_weight, k, stats)
            seed = rng.randint(MAX_INT)
            if data.columns is not None:
                tree, leaf = grow_tree_exact(data.columns, data.X, stats, rows,
                                             feature_pool=pool, level_masks=level_masks,
                                             max_features=level_max_features, seed=seed,
                                             **data.grow)
            else:
                tree, leaf = grow_tree(data.X_binned, stats, rows, data.bin_mapper,
                                       feature_pool=pool, level_masks=level_masks,
                                       max_features=level_max_features, seed=seed,
                                       return_leaves=True, buffers=data.buffers, **data.grow)
            if len(rows) < len(leaf):
                outside = leaf < 0
                if outside.any():
                    leaf[outside] = tree.apply(data.X[outside], absent=np.nan)
            adapted = data.objective.adaptive_leaf_values(
                data.y, margin[:, k], data.sample_weight, leaf, rows, tree.node_count, k)
            if adapted is not None:
                tree.value[:, 0] = adapted
            _add_leaf_values(margin, k, learning_rate, tree.value[:, 0], leaf)
            trees.append(tree)
        self.rounds.append(trees)
        self.learning_rates.append(float(learning_rate))
        self._values = None

    def _flat(self, tree_range):
        lo, hi = tree_range
        trees = [t for round_trees in self.rounds for t in round_trees]
        if self._values is None:
            if (lo, hi) == (0, len(trees)):
                # The whole model (a predict, not one round's evaluation during the fit): make
                # the trees one packed array, which the kernels then read without a copy.
                pack_trees(trees)
            rates = np.repeat(self.learning_rates, self.n_outputs)
            self._values = scaled_output_values(trees, self.n_outputs, rates)
        return trees[lo:hi], self._values[lo:hi]

    def margin(self, X, iteration_range, n_jobs):
        """Sum of the trees of rounds iteration_range = (start, stop) over X, (n, K)."""
        K = self.n_outputs
        trees, values = self._flat((iteration_range[0] * K, iteration_range[1] * K))
        out = np.zeros((X.shape[0], K))
        if trees:
            nodes, value_list, depths = tree_lists(trees, values)
            with numba_threads(n_jobs):
                predict_forest(X, nodes, value_list, depths, out, absent=np.nan)
        return out

    def apply(self, X, iteration_range):
        K = self.n_outputs
        trees, _ = self._flat((iteration_range[0] * K, iteration_range[1] * K))
        nodes, _, depths = tree_lists(trees)
        out = np.empty((X.shape[0], len(trees)), dtype=np.int32)
        apply_forest(X, nodes, depths, out, absent=np.nan)
        return out

    def trees(self):
        """(tree, its round's learning rate) in round-major order."""
        return [(t, lr) for round_trees, lr in zip(self.rounds, self.learning_rates)
                for t in round_trees]

    def copy(self):
        return GBTree(self.n_outputs, list(self.rounds), list(self.learning_rates))

    def to_config(self):
        return {"name": self.name, "n_outputs": self.n_outputs,
                "learning_rates": self.learning_rates,
                "rounds": [[_tree_to_dict(t) for t in round_trees] for round_trees in self.rounds]}

    @classmethod
    def from_config(cls, config):
        rounds = [[_tree_from_dict(t) for t in round_trees] for round_trees in config["rounds"]]
        return cls(config["n_outputs"], rounds, list(config["learning_rates"]))


LEARNERS = {"gbtree": GBTree}


class Booster:
    """The fitted model, as xgboost's Booster presents it (returned by `get_booster()`).

    Attributes
    ----------
    objective : the objective (gradients, link, base score; see _objectives.py).
    base_margin : ndarray (K,), the constant margin every prediction starts from.
    learner : the weak learner holding the rounds (GBTree).
    n_features : int; feature_names : list of str or None.
    best_iteration : int or None.
    """

    def __init__(self, objective=None, base_margin=None, learner=None, n_features=0,
                 feature_names=None, best_iteration=None):
        self.objective = objective
        self.base_margin = base_margin
        self.learner = learner
        self.n_features = n_features
        self.feature_names = feature_names
        self.best_iteration = best_iteration

    def num_boosted_rounds(self):
        return len(self.learner.rounds)

    def _check_range(self, iteration_range):
        start, stop = iteration_range
        n = self.num_boosted_rounds()
        stop = n if stop == 0 else stop
        if not 0 <= start <= stop <= n:
            raise ValueError(f"iteration_range {iteration_range} is outside the {n} rounds "
                             "boosted.")
        return start, stop

    def predict_margin(self, X, iteration_range=(0, 0), base_margin=None, n_jobs=None):
        """Margins (n, K): base margin (per row when given, else the model's) plus the rounds
        in iteration_range (stop 0: all, xgboost's convention)."""
        start, stop = self._check_range(iteration_range)
        margin = self.learner.margin(X, (start, stop), n_jobs)
        if base_margin is None:
            return margin + self.base_margin[None, :]
        return margin + base_margin

    def apply(self, X, iteration_range=(0, 0)):
        return self.learner.apply(X, self._check_range(iteration_range))

    # --- importance --------------------------------------------------------------------------

    def _feature_name(self, f):
        names = self.feature_names
        return str(names[f]) if names is not None else f"f{f}"

    @staticmethod
    def _check_fmap(fmap):
        if fmap:
            raise ValueError("fmap (xgboost's feature-map file) is not supported; feature names "
                             "come from the training data (feature_names_in_).")

    def _importance_arrays(self):
        n = self.n_features
        count, gain, cover = np.zeros(n), np.zeros(n), np.zeros(n)
        for tree, _ in self.learner.trees():
            split = tree.children_left != -1
            f = tree.feature[split]
            np.add.at(count, f, 1.0)
            # xgboost's gain (loss_chg) is twice the engine's: its CalcGain has no 1/2.
            np.add.at(gain, f, 2.0 * tree.gain[split])
            np.add.at(cover, f, tree.weighted_n_node_samples[split])
        with np.errstate(invalid="ignore", divide="ignore"):
            return {"weight": count, "total_gain": gain, "total_cover": cover,
                    "gain": np.where(count > 0, gain / count, 0.0),
                    "cover": np.where(count > 0, cover / count, 0.0)}, count

    def importance(self, importance_type):
        """Per-feature importance array (all features, unused ones 0)."""
        if importance_type not in IMPORTANCE_TYPES:
            raise ValueError(f"importance_type must be one of {IMPORTANCE_TYPES}, got "
                             f"{importance_type!r}.")
        return self._importance_arrays()[0][importance_type]

    def get_score(self, fmap="", importance_type="weight"):
        """{feature name: importance} for the features used in a split (xgboost's get_score)."""
        self._check_fmap(fmap)
        scores = self.importance(importance_type)
        used = self._importance_arrays()[1] > 0
        return {self._feature_name(f): float(scores[f]) for f in np.flatnonzero(used)}

    # --- dump and JSON -----------------------------------------------------------------------

    def get_dump(self, fmap="", with_stats=False, dump_format="text"):
        """One string per tree, in xgboost's text layout (node id, [feature<=threshold],
        yes/no/missing children; leaves leaf=value with the learning rate applied) or as JSON
        (dump_format="json"). Splits send x <= threshold left (xgboost's text says x < t)."""
        self._check_fmap(fmap)
        if dump_format not in ("text", "json"):
            raise ValueError(f"dump_format must be 'text' or 'json', got {dump_format!r}.")
        dumps = []
        for tree, lr in self.learner.trees():
            if dump_format == "json":
                dumps.append(json.dumps(self._tree_json(tree, 0, lr, with_stats)))
                continue
            lines = []
            self._tree_text(tree, 0, 0, lr, with_stats, lines)
            dumps.append("\n".join(lines) + "\n")
        return dumps

    def _tree_text(self, tree, node, depth, lr, with_stats, lines):
        left, right = tree.children_left[node], tree.children_right[node]
        stats = (f",cover={tree.weighted_n_node_samples[node]:.6g}" if with_stats else "")
        if left == -1:
            lines.append("\t" * depth + f"{node}:leaf={lr * tree.value[node, 0]:.9g}{stats}")
            return
        missing = left if tree.missing_go_to_left[node] else right
        gain = f",gain={2.0 * tree.gain[node]:.6g}" if with_stats else ""
        lines.append("\t" * depth + f"{node}:[{self._feature_name(tree.feature[node])}<="
                     f"{tree.threshold[node]:.9g}] yes={left},no={right},missing={missing}"
                     f"{gain}{stats}")
        self._tree_text(tree, left, depth + 1, lr, with_stats, lines)
        self._tree_text(tree, right, depth + 1, lr, with_stats, lines)

    def _tree_json(self, tree, node, lr, with_stats):
        left, right = int(tree.children_left[node]), int(tree.children_right[node])
        out = {"nodeid": node}
        if with_stats:
            out["cover"] = float(tree.weighted_n_node_samples[node])
        if left == -1:
            out["leaf"] = float(lr * tree.value[node, 0])
            return out
        out.update(split=self._feature_name(tree.feature[node]),
                   split_condition=float(tree.threshold[node]), yes=left, no=right,
                   missing=left if tree.missing_go_to_left[node] else right,
                   children=[self._tree_json(tree, left, lr, with_stats),
                             self._tree_json(tree, right, lr, with_stats)])
        if with_stats:
            out["gain"] = float(2.0 * tree.gain[node])
        return out

    def to_config(self):
        return {"format": FORMAT, "objective": self.objective.to_config(),
                "base_margin": self.base_margin.tolist(), "learner": self.learner.to_config(),
                "n_features": self.n_features,
                "feature_names": (None if self.feature_names is None
                                  else [str(n) for n in self.feature_names]),
                "best_iteration": self.best_iteration}

    @classmethod
    def from_config(cls, config):
        if config.get("format") != FORMAT:
            raise ValueError(f"not a model saved by skext (format {config.get('format')!r}, "
                             f"expected {FORMAT!r}).")
        learner_config = config["learner"]
        if learner_config["name"] not in LEARNERS:
            raise ValueError(f"unknown booster {learner_config['name']!r}.")
        return cls(objective_from_config(config["objective"]),
                   np.asarray(config["base_margin"], dtype=np.float64),
                   LEARNERS[learner_config["name"]].from_config(learner_config),
                   config["n_features"], config["feature_names"], config["best_iteration"])

    def save_model(self, fname):
        """Write the model as JSON (floats round-trip exactly)."""
        with open(fname, "w") as f:
            json.dump(self.to_config(), f)

    def load_model(self, fname):
        """Read a model written by save_model into this Booster; returns self."""
        with open(fname) as f:
            other = Booster.from_config(json.load(f))
        self.__dict__.update(other.__dict__)
        return self
