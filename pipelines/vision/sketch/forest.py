"""A random forest as plain arrays: trained with scikit-learn (training only), saved to an
.npz file, evaluated with NumPy at run time. No pickle, no scikit-learn needed to use it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Forest:
    """Trees stored back to back: node i of the whole forest has a feature, a threshold, a
    left and right child (absolute indices, -1 at leaves) and its values: class
    probabilities for a classifier, the predicted outputs for a regressor (no classes)."""

    feature: np.ndarray  # int16
    threshold: np.ndarray  # float64
    left: np.ndarray  # int32
    right: np.ndarray  # int32
    value: np.ndarray  # (nodes, classes) float16 or (nodes, outputs) float32
    roots: np.ndarray  # int32, the first node of each tree
    classes: tuple[str, ...]
    depth: int

    @classmethod
    def from_sklearn(cls, model) -> Forest:
        """From a fitted scikit-learn ``RandomForestClassifier`` or ``RandomForestRegressor``
        (or ExtraTrees)."""
        regressor = not hasattr(model, "classes_")
        parts = {k: [] for k in ("feature", "threshold", "left", "right", "value")}
        roots, offset, depth = [], 0, 0
        for estimator in model.estimators_:
            tree = estimator.tree_
            roots.append(offset)
            leaf = tree.children_left < 0
            parts["feature"].append(np.where(leaf, 0, tree.feature))
            parts["threshold"].append(np.where(leaf, 0.0, tree.threshold))
            parts["left"].append(np.where(leaf, -1, tree.children_left + offset))
            parts["right"].append(np.where(leaf, -1, tree.children_right + offset))
            if regressor:  # tree.value is (nodes, outputs, 1)
                parts["value"].append(tree.value[:, :, 0].astype(np.float64))
            else:  # (nodes, 1, classes): counts or fractions, made fractions
                value = tree.value[:, 0, :].astype(np.float64)
                parts["value"].append(value / np.maximum(value.sum(1, keepdims=True), 1e-12))
            offset += tree.node_count
            depth = max(depth, tree.max_depth)
        return cls(
            np.concatenate(parts["feature"]).astype(np.int16),
            np.concatenate(parts["threshold"]).astype(np.float64),
            np.concatenate(parts["left"]).astype(np.int32),
            np.concatenate(parts["right"]).astype(np.int32),
            np.concatenate(parts["value"]).astype(np.float32 if regressor else np.float16),
            np.array(roots, np.int32),
            () if regressor else tuple(str(c) for c in model.classes_),
            int(depth),
        )

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities (rows: samples; columns: ``classes``), averaged over trees."""
        return self.predict(features)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The leaves' values averaged over trees (rows: samples): a regressor's outputs."""
        x = np.asarray(features, dtype=np.float32)
        if x.shape[0] == 0:
            return np.zeros((0, self.value.shape[1]))
        rows = np.arange(x.shape[0])[:, None]
        nodes = np.repeat(self.roots[None, :], x.shape[0], axis=0)
        for _ in range(self.depth + 1):
            left = self.left[nodes]
            inner = left >= 0
            if not inner.any():
                break
            go_left = x[rows, self.feature[nodes]] <= self.threshold[nodes]
            nodes = np.where(inner, np.where(go_left, left, self.right[nodes]), nodes)
        return self.value[nodes].astype(np.float64).mean(axis=1)

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """The arrays to save, keys prefixed (several forests can share one .npz)."""
        named = {
            "feature": self.feature, "threshold": self.threshold, "left": self.left,
            "right": self.right, "value": self.value, "roots": self.roots,
            "classes": np.array(self.classes, dtype=str), "depth": np.array(self.depth),
        }  # fmt: skip
        return {prefix + key: value for key, value in named.items()}

    @classmethod
    def from_arrays(cls, data, prefix: str = "") -> Forest:
        def get(key: str):
            return data[prefix + key]

        return cls(
            get("feature"), get("threshold"), get("left"), get("right"), get("value"),
            get("roots"), tuple(str(c) for c in get("classes")), int(get("depth")),
        )  # fmt: skip

    def save(self, path: Path) -> None:
        np.savez_compressed(path, **self.arrays())
