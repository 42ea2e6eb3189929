"""kerasnet.data: reading tables, the task rule, fold-safe preprocessing, one-line input errors."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from kerasnet import data
from kerasnet.data import InputError, Preprocessor, infer_task, load_dataset, load_table


def _frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x1": rng.normal(5.0, 2.0, n),
            "x2": rng.integers(0, 100, n),
            "color": rng.choice(["red", "green", "blue"], n),
            "flag": rng.choice([True, False], n),
        }
    )


# --------------------------------------------------------------------------- task rule


@pytest.mark.parametrize(
    "y, task",
    [
        (["a", "b", "a"], "binary"),
        (["a", "b", "c", "a"], "multiclass"),
        ([True, False, True], "binary"),
        ([0, 1, 1, 0], "binary"),
        ([0, 1, 2, 3, 4], "multiclass"),
        ([1.0, 2.0, 3.0, 1.0], "multiclass"),  # integer-valued floats are classes
        (list(range(20)), "multiclass"),  # 20 distinct integers: still classes
        (list(range(21)), "regression"),  # 21: regression
        ([0.5, 1.5, 2.0], "regression"),
        (pd.Series(["x", "y"], dtype="category"), "binary"),
    ],
)
def test_infer_task_rule(y, task):
    assert infer_task(y) == task


def test_infer_task_one_class_is_an_error():
    with pytest.raises(InputError, match=r"target 'y' has one class \('a'\)"):
        infer_task(pd.Series(["a", "a", "a"], name="y"))


def test_infer_task_nan_target_names_counts():
    with pytest.raises(InputError, match=r"'t' \(1 missing/NaN, 1 inf\)"):
        infer_task(pd.Series([0.0, np.nan, np.inf, 1.0], name="t"))


# --------------------------------------------------------------------------- preprocessing


def test_statistics_come_from_training_rows_only():
    frame = _frame(80)
    train, valid = train_test_split(frame, test_size=0.25, random_state=0)
    pre = Preprocessor().fit(train)
    scaler = StandardScaler().fit(train[["x1", "x2"]])
    encoder = OneHotEncoder().fit(train[["color", "flag"]].astype(str))
    expected = np.hstack(
        [
            scaler.transform(valid[["x1", "x2"]]),
            encoder.transform(valid[["color", "flag"]].astype(str)).toarray(),
        ]
    )
    np.testing.assert_allclose(pre.transform(valid), expected, rtol=1e-5, atol=1e-6)
    means = {c["name"]: c["mean"] for c in pre.columns_ if c["kind"] == "numeric"}
    np.testing.assert_allclose([means["x1"], means["x2"]], scaler.mean_)
    # The full-data mean differs: the statistics really are the training rows'.
    assert abs(means["x1"] - frame["x1"].mean()) > 1e-6
    assert pre.feature_names_ == [
        "x1",
        "x2",
        "color=blue",
        "color=green",
        "color=red",
        "flag=False",
        "flag=True",
    ]


def test_constant_column_gets_scale_one():
    pre = Preprocessor().fit(pd.DataFrame({"c": [3.0, 3.0, 3.0], "v": [1.0, 2.0, 3.0]}))
    assert pre.columns_[0]["scale"] == 1.0
    np.testing.assert_array_equal(
        pre.transform(pd.DataFrame({"c": [3.0, 4.0], "v": [2.0, 2.0]}))[:, 0], [0, 1]
    )


def test_json_round_trip_gives_same_transform_and_no_pickle(tmp_path):
    frame = _frame(40)
    y = pd.Series(np.where(frame["x1"] > 5, "yes", "no"), name="buy")
    pre = Preprocessor().fit(frame, y)
    path = tmp_path / "preprocessing.json"
    pre.save(path)
    state = json.loads(path.read_text())  # plain JSON: nothing to unpickle
    assert state["format"] == "kerasnet.preprocessing" and state["classes"] == ["no", "yes"]
    again = Preprocessor.load(path)
    np.testing.assert_array_equal(again.transform(frame), pre.transform(frame))
    np.testing.assert_array_equal(again.encode_target(y), (y == "yes").astype("float32"))
    assert again.task_ == "binary" and again.target_ == "buy"


def test_numeric_class_labels_survive_json():
    y = pd.Series([3, 7, 7, 9, 3], name="k")
    pre = Preprocessor.from_json(Preprocessor().fit(pd.DataFrame({"a": range(5)}), y).to_json())
    assert pre.task_ == "multiclass" and pre.classes_ == [3, 7, 9]
    np.testing.assert_array_equal(pre.encode_target(y), [0, 1, 1, 2, 0])
    out = pre.decode_predictions(np.eye(3)[[2, 0]])
    assert out["predicted_k"].tolist() == [9, 3]
    assert list(out.columns) == ["predicted_k", "proba_3", "proba_7", "proba_9"]


def test_binary_decode_gives_both_probabilities():
    pre = Preprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}), pd.Series(["no", "yes"], name="t"))
    out = pre.decode_predictions(np.array([[0.25], [0.75]]))
    assert out["predicted_t"].tolist() == ["no", "yes"]
    np.testing.assert_allclose(out[["proba_no", "proba_yes"]], [[0.75, 0.25], [0.25, 0.75]])


def test_unseen_category_names_column_and_value():
    pre = Preprocessor().fit(_frame(30))
    new = _frame(3)
    new.loc[1, "color"] = "purple"
    with pytest.raises(InputError, match=r"categories not seen in training: 'color': purple"):
        pre.transform(new)


def test_missing_columns_are_named_and_extra_columns_ignored():
    pre = Preprocessor().fit(_frame(30))
    with pytest.raises(InputError, match=r"missing columns used in training: x2, flag"):
        pre.transform(_frame(3).drop(columns=["x2", "flag"]))
    extra = _frame(3).assign(id=[1, 2, 3])
    np.testing.assert_array_equal(pre.transform(extra), pre.transform(_frame(3)))


def test_nan_and_inf_in_features_name_columns_and_counts():
    frame = _frame(10).astype({"x2": float})
    frame.loc[[0, 3], "x1"] = np.nan
    frame.loc[5, "x2"] = np.inf
    frame.loc[2, "color"] = None
    with pytest.raises(InputError) as err:
        Preprocessor().fit(frame)
    message = str(err.value)
    assert "'x1' (2 missing/NaN)" in message and "'x2' (1 inf)" in message
    assert "'color' (1 missing/NaN)" in message and "\n" not in message


def test_text_in_numeric_column_is_an_error():
    pre = Preprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(InputError, match=r"column 'a' was numeric in training but holds text such as 'x'"):
        pre.transform(pd.DataFrame({"a": ["1", "x"]}))


def test_forced_task_is_checked():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="exactly 2 classes"):
        Preprocessor(task="binary").fit(X, pd.Series(["a", "b", "c"]))
    with pytest.raises(InputError, match="needs a numeric target"):
        Preprocessor(task="regression").fit(X, pd.Series(["a", "b", "c"]))
    assert Preprocessor(task="regression").fit(X, pd.Series([0, 1, 1])).task_ == "regression"


def test_split_rows_matches_sklearn_stratified_split():
    y = pd.Series(["a"] * 30 + ["b"] * 10)
    train, valid = data.split_rows(40, 0.25, y=y, task="binary", seed=3)
    ref_train, ref_valid = train_test_split(np.arange(40), test_size=0.25, random_state=3, stratify=y)
    np.testing.assert_array_equal(valid, np.sort(ref_valid))
    np.testing.assert_array_equal(train, np.sort(ref_train))


# --------------------------------------------------------------------------- reading


def test_csv_and_parquet_round_trip(tmp_path):
    frame = _frame(5)
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(load_table(tmp_path / "t.parquet"), frame)
    pd.testing.assert_frame_equal(load_table(str(tmp_path / "t.csv")), frame, check_dtype=False)
    assert load_table(frame) is frame


def test_parquet_without_pyarrow_says_how_to_install(tmp_path, monkeypatch):
    path = tmp_path / "t.pq"
    path.write_bytes(b"PAR1")
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r"pip install pyarrow"):
        load_table(path)


@pytest.mark.parametrize(
    "content, message",
    [(None, "does not exist"), ("", "is empty"), ("a,b\n", "has no rows")],
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "t.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_table(path)


@pytest.mark.parametrize(
    "name, shape, task",
    [
        ("breast_cancer", (569, 31), "binary"),
        ("diabetes", (442, 11), "regression"),
        ("wine", (178, 14), "multiclass"),
        ("digits", (1797, 65), "multiclass"),
        ("iris", (150, 5), "multiclass"),
    ],
)
def test_bundled_datasets(name, shape, task):
    frame, target = load_dataset(name)
    assert frame.shape == shape and infer_task(frame[target]) == task == data.DATASETS[name]


def test_unknown_dataset():
    with pytest.raises(InputError, match="unknown dataset 'mnist'; choose one of breast_cancer"):
        load_dataset("mnist")
