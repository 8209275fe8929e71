#!/usr/bin/python3
"""Makes the LightGBM fixtures with missing values for
predictors/lightgbm_test.go (issue 18). Python standard library only; the
models and their probabilities are made by LightGBM's own command-line
program, and the outputs are committed, so the Go tests need neither.

Where LightGBM came from: Debian has no LightGBM package and PyPI is not
reachable here, but the npm package `lightgbm` 1.0.27
(https://registry.npmjs.org/lightgbm/-/lightgbm-1.0.27.tgz, sha1
85fc84f8093926c26ea24cc8d57b5fe2ec83b4c4) carries LightGBM's full source
(dependencies/LightGBM, VERSION.txt 4.1.0.99) for its native binding. Its
command-line program builds with Debian's cmake and g++:

    npm pack lightgbm && tar xzf lightgbm-1.0.27.tgz
    cd package/dependencies/LightGBM && mkdir build && cd build
    cmake .. && make -j2 lightgbm          # writes ../lightgbm

Then, from the repository root:

    LIGHTGBM=/path/to/LightGBM/lightgbm python3 predictors/testdata/lightgbm/make_missing_fixtures.py

The rows are the SYNTHETIC vte-arthroplasty cohorts of the XGBoost
fixtures (../xgb-vte-train.csv, ../xgb-vte-valid.csv, made by orthocds
synth), where D-dimer and hours to ambulation are blank in 30% of rows.
They are written as LightGBM reads them: numbers, levels as their index in
the schema's level order (sex: male 0, female 1; joint: hip 0, knee 1),
booleans 0/1, a blank input as "nan". Three models are trained, one per
way LightGBM treats a missing value:

- lgb-vte-missing.txt: defaults (use_missing): the inputs seen missing in
  training get missing type NaN with a learned default direction, the
  others missing type None;
- lgb-vte-zero.txt: zero_as_missing=true: missing type Zero (0 and NaN both
  take the default direction);
- lgb-vte-categorical.txt: sex and joint declared categorical.

Each model's probabilities on the 500 validation rows, as written by
`lightgbm task=predict`, are kept beside it (lgb-vte-*.pred.txt).
"""
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = {"sex": ["male", "female"], "joint": ["hip", "knee"]}


def encode(src, dst):
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    names = list(rows[0].keys())
    with open(dst, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for r in rows:
            out = []
            for n in names:
                v = r[n]
                if v == "":
                    out.append("nan")
                elif n in LEVELS:
                    out.append(str(LEVELS[n].index(v)))
                elif v in ("true", "false"):
                    out.append("1" if v == "true" else "0")
                else:
                    out.append(v)
            w.writerow(out)


def run(lightgbm, params):
    subprocess.run([lightgbm] + [f"{k}={v}" for k, v in params.items()], check=True,
                   stdout=subprocess.DEVNULL)


def main():
    lightgbm = os.environ.get("LIGHTGBM")
    if not lightgbm:
        sys.exit("set LIGHTGBM to the lightgbm program")
    with tempfile.TemporaryDirectory() as tmp:
        train, valid = os.path.join(tmp, "train.csv"), os.path.join(tmp, "valid.csv")
        encode(os.path.join(HERE, "..", "xgb-vte-train.csv"), train)
        encode(os.path.join(HERE, "..", "xgb-vte-valid.csv"), valid)
        common = {"objective": "binary", "header": "true", "label_column": "name:outcome",
                  "num_iterations": 60, "learning_rate": 0.15, "num_leaves": 15,
                  "min_data_in_leaf": 20, "seed": 7, "deterministic": "true", "num_threads": 1,
                  "verbosity": -1}
        for name, extra in [("missing", {}),
                            ("zero", {"zero_as_missing": "true"}),
                            ("categorical", {"categorical_feature": "name:sex,joint",
                                             "min_data_per_group": 20, "cat_smooth": 1})]:
            model = os.path.join(HERE, f"lgb-vte-{name}.txt")
            run(lightgbm, {**common, **extra, "task": "train", "data": train, "output_model": model})
            run(lightgbm, {"task": "predict", "data": valid, "header": "true",
                           "label_column": "name:outcome", "input_model": model,
                           "output_result": os.path.join(HERE, f"lgb-vte-{name}.pred.txt"),
                           "num_threads": 1, "verbosity": -1})


if __name__ == "__main__":
    main()
