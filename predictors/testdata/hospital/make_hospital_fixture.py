#!/usr/bin/python3
"""Makes the SYNTHETIC data and the XGBoost model of the made-up hospital
predictor hu-cement-leakage.yaml (issue 18), for predictors and cmd tests.

Run once from the repository root with Debian's python3-xgboost (1.7.4):

    /usr/bin/python3 predictors/testdata/hospital/make_hospital_fixture.py

The cohort is drawn from invented effects (below), not from any study; the
planned cement volume is left empty in 25% of rows. XGBoost's own
probabilities on the validation rows are recorded; the outputs are
committed, so the Go tests need no Python.
"""
import csv
import json

import numpy as np
import xgboost as xgb

DIR = "predictors/testdata/hospital/"
NAMES = ["age_years", "vertebral_hu", "cement_volume_ml", "cortical_defect", "level"]
LEVELS = ["lumbar", "thoracic"]


def cohort(n, seed):
    rng = np.random.default_rng(seed)
    age = rng.uniform(50, 92, n)
    hu = rng.normal(90, 45, n).clip(-40, 380)
    vol = rng.uniform(1.5, 9, n)
    defect = rng.random(n) < 0.3
    level = rng.integers(0, 2, n)
    # Invented effects (SYNTHETIC): lower HU, more cement, a defect raise the odds.
    logit = -1.2 - 0.012 * (hu - 90) + 0.25 * (vol - 4) + 1.1 * defect + 0.3 * level + 0.01 * (age - 70)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    rows = []
    for i in range(n):
        rows.append({"age_years": f"{age[i]:.1f}", "vertebral_hu": f"{hu[i]:.0f}",
                     "cement_volume_ml": "" if rng.random() < 0.25 else f"{vol[i]:.1f}",
                     "cortical_defect": "true" if defect[i] else "false", "level": LEVELS[level[i]],
                     "outcome": str(y[i])})
    return rows


def matrix(rows):
    def enc(n, v):
        if v == "":
            return np.nan
        if n == "level":
            return float(LEVELS.index(v))
        if v in ("true", "false"):
            return 1.0 if v == "true" else 0.0
        return float(v)
    return np.array([[enc(n, r[n]) for n in NAMES] for r in rows])


for name, rows in (("train", cohort(2000, 51)), ("valid", cohort(400, 52))):
    with open(DIR + f"hu-{name}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=NAMES + ["outcome"])
        w.writeheader()
        w.writerows(rows)
    if name == "train":
        clf = xgb.XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.2, tree_method="exact", random_state=0)
        clf.fit(matrix(rows), np.array([int(r["outcome"]) for r in rows]))
        booster = clf.get_booster()
        booster.feature_names = NAMES
        booster.save_model(DIR + "hu-xgboost.json")
    else:
        p = booster.predict(xgb.DMatrix(matrix(rows), feature_names=NAMES))
        with open(DIR + "hu-xgboost-expected.txt", "w") as f:
            f.write("\n".join(repr(float(v)) for v in p) + "\n")
        with open(DIR + "hu-versions.json", "w") as f:
            json.dump({"xgboost": xgb.__version__, "numpy": np.__version__}, f)
