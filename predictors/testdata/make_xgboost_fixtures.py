#!/usr/bin/python3
"""Makes the XGBoost and scikit-learn fixtures for predictors/xgboost_test.go.

Run once from the repository root with Debian's python3-xgboost (1.7.4) and
python3-sklearn (1.2.1):

    /usr/bin/python3 predictors/testdata/make_xgboost_fixtures.py

Inputs are SYNTHETIC cohorts written by `orthocds synth --predictor
cement-leakage` (seeds 21 and 22). It trains an XGBoost classifier the way a
hospital data scientist would, saves it in XGBoost's JSON format, and records
XGBoost's own probabilities and SHAP values and scikit-learn's AUC, Brier
score and calibration fit on the test rows. The outputs are committed, so
the Go tests need no Python.
"""
import csv
import json

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

# Category levels in the predictor schema's order (predictors/defs.go).
LEVELS = {"sex": ["female", "male"], "procedure": ["pkp", "pvp"]}
DIR = "predictors/testdata/"


def encode(name, value):
    if name in LEVELS:
        return float(LEVELS[name].index(value))
    if value in ("true", "false"):
        return 1.0 if value == "true" else 0.0
    return float(value)


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    names = [c for c in rows[0] if c != "outcome"]
    x = np.array([[encode(n, r[n]) for n in names] for r in rows], dtype=np.float64)
    y = np.array([int(r["outcome"]) for r in rows])
    return names, x, y


names, x_train, y_train = load(DIR + "xgb-train.csv")
_, x_test, y_test = load(DIR + "xgb-test.csv")

clf = xgb.XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.2,
                        objective="binary:logistic", tree_method="exact", random_state=0)
clf.fit(x_train, y_train)
booster = clf.get_booster()
booster.feature_names = names
booster.save_model(DIR + "xgb-cement-leakage.json")

p = clf.predict_proba(x_test)[:, 1]
contribs = booster.predict(xgb.DMatrix(x_test, feature_names=names), pred_contribs=True)
logit = np.log(p / (1 - p)).reshape(-1, 1)
cal = LogisticRegression(penalty=None, solver="lbfgs", tol=1e-12, max_iter=10000).fit(logit, y_test)

with open(DIR + "xgb-expected.json", "w") as f:
    json.dump({
        "versions": {"xgboost": xgb.__version__, "sklearn": sklearn.__version__},
        "probabilities": [float(v) for v in p],
        "shap": [[float(v) for v in row] for row in contribs],
        "auc": float(roc_auc_score(y_test, p)),
        "brier": float(brier_score_loss(y_test, p)),
        "calibration_intercept": float(cal.intercept_[0]),
        "calibration_slope": float(cal.coef_[0][0]),
    }, f, indent=1)
