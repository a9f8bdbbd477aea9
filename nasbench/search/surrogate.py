"""The cost-aware surrogate prefilter (`--prefilter hvi:K`): of K samples, train the one with the largest predicted
hypervolume improvement per predicted second of training.

Extremely randomised trees (scikit-learn's ExtraTreesRegressor) are fitted to the trials trained to COMPLETE so
far (REPEATs are not new measurements): features are the sampler's parameters (numbers as numbers, choices one-hot)
and log FLOPs and params; targets are the objectives not known before training (accuracy; latency or proxies when
they are objectives) and log training time, standardised. A candidate's point is optimistic: the trees' mean
prediction plus `OPTIMISM` standard deviations of their spread towards better (its FLOPs and params are its own).
Its score is the hypervolume that point adds to the front of the trained trials (reference: zero quality and
`REFERENCE_MARGIN` beyond the costliest trained value), divided by the trees' mean predicted training time. When no
candidate adds anything, the one of highest predicted quality (the first objective predicted) is trained. Until
`MIN_TRAINED` trials are trained, one sample is drawn and trained (the sampler's own choice)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from nasbench.analysis.fronts import hypervolume_of, minimised
from nasbench.objectives import COLUMNS
from nasbench.record import COMPLETE
from nasbench.search.results import trial_record

NAME = "hvi"
KNOWN_BEFORE_TRAINING = ("flops", "params")  # record columns a candidate has before it is trained
MIN_TRAINED = 4  # trained trials before the surrogate ranks candidates
TREES = 64
OPTIMISM = 0.5  # standard deviations of the trees' spread added towards better
REFERENCE_MARGIN = 0.1


class SurrogatePrefilter:
    """`--prefilter hvi:K` for a search of `objectives` (name -> max/min), seeded."""

    def __init__(self, count: int, objectives: Mapping[str, str], seed: int = 0):
        self.name, self.count, self.seed = NAME, count, seed
        self.objectives = {COLUMNS[name]: direction for name, direction in objectives.items()}
        self.predicted = [c for c in self.objectives if c not in KNOWN_BEFORE_TRAINING]

    def samples(self, study: optuna.Study) -> int:
        """How many samples to draw for the next trial: one until the surrogate can be fitted, then K."""
        return self.count if len(_trained(study, self.predicted)) >= MIN_TRAINED else 1

    def scores(self, candidates: Sequence[tuple], study: optuna.Study) -> list[float]:
        """Predicted hypervolume improvement per second of training of each (trial, genome, record) candidate."""
        trained = _trained(study, self.predicted)
        if len(trained) < MIN_TRAINED:
            return [0.0] * len(candidates)
        rows = pd.DataFrame([record for _, _, record in candidates])
        features = _features([t.params for t in trained["trial"]] + [trial.params for trial, _, _ in candidates],
                             pd.concat([trained[list(KNOWN_BEFORE_TRAINING)], rows[list(KNOWN_BEFORE_TRAINING)]]))
        targets = trained[self.predicted].to_numpy(float)
        targets = np.column_stack([targets, np.log(trained["wall_time_s"].to_numpy(float))])
        per_tree = _per_tree(features[:len(trained)], targets, features[len(trained):], self.seed + len(trained))
        mean, spread = per_tree.mean(axis=0), per_tree.std(axis=0)
        signs = np.array([-1.0 if direction == "max" else 1.0 for direction in self.objectives.values()])
        so_far = minimised(trained, self.objectives)
        ref = np.where(signs < 0, np.maximum(so_far.max(axis=0), 0.0), so_far.max(axis=0) * (1 + REFERENCE_MARGIN))
        base = hypervolume_of(so_far, ref)
        known = rows.reindex(columns=list(self.objectives)).to_numpy(float)  # the predicted columns are NaN
        predicted = [list(self.objectives).index(column) for column in self.predicted]
        points = known.copy()
        points[:, predicted] = mean[:, :-1] - signs[predicted] * OPTIMISM * spread[:, :-1]
        points *= signs
        seconds = np.exp(mean[:, -1])
        scores = [(hypervolume_of(np.vstack([so_far, point]), ref) - base) / s for point, s in zip(points, seconds)]
        if max(scores) <= 0:  # no candidate promises an improvement: the one of highest predicted quality
            scores = list(mean[:, 0] * -signs[predicted[0]])
        return scores


def _trained(study: optuna.Study, predicted: Sequence[str]) -> pd.DataFrame:
    """The trials trained to COMPLETE (not repeats) with every predicted value and a training time: their records'
    columns and the Optuna trial (`trial`)."""
    rows = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        record = trial_record(trial, "")
        if record.state == COMPLETE:
            rows.append({**dataclasses.asdict(record), "trial": trial})
    frame = pd.DataFrame(rows, columns=[*KNOWN_BEFORE_TRAINING, *predicted, "wall_time_s", "trial"])
    values = frame[[*predicted, "wall_time_s"]].to_numpy(float)
    keep = np.isfinite(values).all(axis=1) & (frame["wall_time_s"].to_numpy(float) > 0)
    return frame[keep].reset_index(drop=True)


def _features(params: Sequence[Mapping], costs: pd.DataFrame) -> np.ndarray:
    """Parameters as features (numeric ones as numbers, -1 where a conditional one is absent; others one-hot), and
    log FLOPs and params."""
    frame = pd.DataFrame(list(params))
    columns = []
    for name in frame.columns:
        values = frame[name]
        numeric = values.dropna().map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all()
        if numeric:
            columns.append(values.astype(float).fillna(-1.0).to_numpy()[:, None])
        else:
            columns.append(pd.get_dummies(values.astype(str)).to_numpy(float))
    columns.append(np.log(costs.to_numpy(float)))
    return np.hstack(columns)


def _per_tree(features: np.ndarray, targets: np.ndarray, queries: np.ndarray, seed: int) -> np.ndarray:
    """Every tree's prediction of each target at each query (trees x queries x targets)."""
    from sklearn.ensemble import ExtraTreesRegressor  # here: 0.3 s of imports every Ray worker would pay otherwise
    centre, scale = targets.mean(axis=0), targets.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    model = ExtraTreesRegressor(n_estimators=TREES, min_samples_leaf=2, random_state=seed)
    model.fit(features, (targets - centre) / scale)
    return np.stack([tree.predict(queries).reshape(len(queries), -1) for tree in model.estimators_]) * scale + centre


def is_surrogate(text: str) -> bool:
    """Whether a `--prefilter` value names the surrogate (hvi:K)."""
    return text.partition(":")[0] == NAME
