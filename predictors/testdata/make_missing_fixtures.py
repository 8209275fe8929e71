#!/usr/bin/python3
"""Makes the XGBoost fixtures with missing values and categorical splits for
predictors/xgboost_test.go (issue 18).

Run once from the repository root with Debian's python3-xgboost (1.7.4),
python3-pandas (1.5.3) and the orthocds binary built at /tmp/orthocds:

    go build -o /tmp/orthocds ./cmd/orthocds
    /tmp/orthocds synth --predictor vte-arthroplasty --rows 3000 --seed 31 > /tmp/vte-train.csv
    /tmp/orthocds synth --predictor vte-arthroplasty --rows 500 --seed 32 > /tmp/vte-valid.csv
    /usr/bin/python3 predictors/testdata/make_missing_fixtures.py

The cohorts are SYNTHETIC (orthocds synth). The two optional inputs of the
vte-arthroplasty schema (D-dimer, hours to ambulation) are blanked in 30% of
training and validation rows each, as a hospital's data would have them.
XGBoost learns a default direction for missing values at every split; the
Go import must follow it. Two models are trained the way a hospital data
scientist would: one on numbers only (saved as JSON and as UBJSON), one with
sex and joint as pandas categoricals (partition splits, saved as JSON). The
category codes follow the schema's level order (predictors/defs.go), which
is what the import maps. XGBoost's own probabilities and SHAP values on the
validation rows are recorded; the outputs are committed, so the Go tests
need no Python.
"""
import csv
import json

import numpy as np
import pandas as pd
import xgboost as xgb

DIR = "predictors/testdata/"
LEVELS = {"sex": ["male", "female"], "joint": ["hip", "knee"]}
OPTIONAL = ["d_dimer_mg_l_feu", "hours_to_ambulation"]


def read(path, seed):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    rng = np.random.default_rng(seed)
    for r in rows:
        for name in OPTIONAL:
            if rng.random() < 0.3:
                r[name] = ""
    return rows


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


def numeric(rows, names):
    def enc(n, v):
        if v == "":
            return np.nan
        if n in LEVELS:
            return float(LEVELS[n].index(v))
        if v in ("true", "false"):
            return 1.0 if v == "true" else 0.0
        return float(v)
    return np.array([[enc(n, r[n]) for n in names] for r in rows], dtype=np.float64)


def frame(rows, names):
    x = numeric(rows, names)
    df = pd.DataFrame(x, columns=names)
    for n, levels in LEVELS.items():
        df[n] = pd.Categorical.from_codes(df[n].astype(int), categories=levels)
    return df


train = read("/tmp/vte-train.csv", 41)
valid = read("/tmp/vte-valid.csv", 42)
write(DIR + "xgb-vte-train.csv", train)
write(DIR + "xgb-vte-valid.csv", valid)
names = [c for c in train[0] if c != "outcome"]
y_train = np.array([int(r["outcome"]) for r in train])

# Numbers only, missing values as NaN.
x_train, x_valid = numeric(train, names), numeric(valid, names)
clf = xgb.XGBClassifier(n_estimators=60, max_depth=4, learning_rate=0.15, objective="binary:logistic",
                        tree_method="exact", random_state=0)
clf.fit(x_train, y_train)
booster = clf.get_booster()
booster.feature_names = names
booster.save_model(DIR + "xgb-vte-missing.json")
booster.save_model(DIR + "xgb-vte-missing.ubj")
dvalid = xgb.DMatrix(x_valid, feature_names=names)
p_missing = booster.predict(dvalid)
shap_missing = booster.predict(dvalid, pred_contribs=True)

# Sex and joint as categories: partition-based categorical splits.
df_train, df_valid = frame(train, names), frame(valid, names)
dtrain = xgb.DMatrix(df_train, label=y_train, enable_categorical=True)
cat = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 4, "eta": 0.15,
                 "max_cat_to_onehot": 1, "seed": 0}, dtrain, num_boost_round=60)
cat.save_model(DIR + "xgb-vte-categorical.json")
p_cat = cat.predict(xgb.DMatrix(df_valid, enable_categorical=True))

with open(DIR + "xgb-vte-expected.json", "w") as f:
    json.dump({
        "versions": {"xgboost": xgb.__version__, "pandas": pd.__version__, "numpy": np.__version__},
        "missing_probabilities": [float(v) for v in p_missing],
        "missing_shap": [[float(v) for v in row] for row in shap_missing],
        "categorical_probabilities": [float(v) for v in p_cat],
    }, f, indent=1)
print("rows with a missing input:", sum(1 for r in valid if any(r[n] == "" for n in OPTIONAL)), "of", len(valid))
