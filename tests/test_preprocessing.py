"""Preprocessor: every number against scikit-learn's scalers and encoders or a hand computation.

tests/test_data.py covers the column checks and the one-line messages of the whole module;
this file pins the arithmetic, the encodings and the saved state of :class:`Preprocessor`.
"""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

from kerasnet.data import InputError, Preprocessor


def _frame():
    return pd.DataFrame(
        {
            "age": [20.0, 30.0, 40.0, 50.0, 60.0, 25.0],
            "count": [1, 4, 4, 9, 0, 3],  # integers: numeric, standardized
            "color": ["red", "blue", "red", "green", "blue", "red"],
            "flag": [True, False, True, True, False, False],
        }
    )


# ----------------------------------------------------------------------------- fit and transform


def test_transform_is_standard_scaler_then_one_hot_encoder():
    X = _frame()
    pre = Preprocessor().fit(X)
    scaler = StandardScaler().fit(X[["age", "count"]])
    encoder = OneHotEncoder().fit(X[["color", "flag"]].astype(str))
    new = X.iloc[[5, 0, 3]].reset_index(drop=True)
    expected = np.hstack([scaler.transform(new[["age", "count"]]),
                          encoder.transform(new[["color", "flag"]].astype(str)).toarray()])
    got = pre.transform(new)
    assert got.dtype == np.float32 and got.shape == (3, 2 + 3 + 2)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    # The saved statistics are the population mean and std (numpy's ddof=0, sklearn's scale_).
    assert pre.columns_[0] == {"name": "age", "kind": "numeric", "mean": 37.5,
                               "scale": float(np.std(X["age"]))}
    assert pre.columns_[1]["mean"] == pytest.approx(3.5) and pre.columns_[1]["scale"] == pytest.approx(
        scaler.scale_[1])
    assert pre.columns_[2] == {"name": "color", "kind": "categorical", "categories": ["blue", "green", "red"]}
    assert pre.columns_[3] == {"name": "flag", "kind": "categorical", "categories": ["False", "True"]}
    assert pre.feature_names_ == ["age", "count", "color=blue", "color=green", "color=red", "flag=False",
                                  "flag=True"]
    assert pre.n_features_out == 7 and pre.input_columns == ["age", "count", "color", "flag"]


def test_columns_are_matched_by_name_not_position_and_names_become_strings():
    X = pd.DataFrame({0: [1.0, 3.0], 1: ["a", "b"]})  # integer column names
    pre = Preprocessor().fit(X)
    assert pre.input_columns == ["0", "1"] and pre.feature_names_ == ["0", "1=a", "1=b"]
    # Reordered columns (and an extra one) give the same rows: [(x - 2) / 1, one-hot].
    swapped = pd.DataFrame({"extra": [9, 9], 1: ["b", "a"], 0: [3.0, 1.0]})
    np.testing.assert_array_equal(pre.transform(swapped), [[1.0, 0.0, 1.0], [-1.0, 1.0, 0.0]])


def test_constant_and_categorical_only_and_empty_inputs():
    pre = Preprocessor().fit(pd.DataFrame({"c": [2.0, 2.0, 2.0]}))
    assert pre.columns_[0]["scale"] == 1.0  # constant: scale 1, values centred, not NaN
    np.testing.assert_array_equal(pre.transform(pd.DataFrame({"c": [2.0, 5.0]})), [[0.0], [3.0]])
    only = Preprocessor().fit(pd.DataFrame({"s": ["x", "y", "x"]}))
    np.testing.assert_array_equal(only.transform(pd.DataFrame({"s": ["y", "x"]})), [[0, 1], [1, 0]])
    empty = Preprocessor().fit(pd.DataFrame(index=range(3)))
    out = empty.transform(pd.DataFrame(index=range(4)))
    assert out.shape == (4, 0) and out.dtype == np.float32
    assert empty.n_features_out == 0


def test_numeric_text_that_parses_is_accepted_at_transform():
    pre = Preprocessor().fit(pd.DataFrame({"a": [0.0, 2.0]}))  # mean 1, scale 1
    np.testing.assert_allclose(pre.transform(pd.DataFrame({"a": ["3", "-1.5"]})), [[2.0], [-2.5]])
    with pytest.raises(InputError, match=r"^column 'a' was numeric in training but holds text such as 'x' "
                                         r"\(2 rows\); fix those values\.$"):
        pre.transform(pd.DataFrame({"a": ["1", "x", "x"]}))


def test_unseen_categories_are_listed_per_column_and_missing_columns_named():
    pre = Preprocessor().fit(_frame())
    new = _frame().iloc[:2].copy()
    new["color"] = ["purple", "cyan"]
    new["flag"] = new["flag"].astype(object)
    new.loc[0, "flag"] = "maybe"
    with pytest.raises(InputError, match=r"^categories not seen in training: 'color': cyan, purple; "
                                         r"'flag': maybe; give only categories"):
        pre.transform(new)
    with pytest.raises(InputError, match=r"^data is missing columns used in training: age, flag; "
                                         r"add them \(extra columns are fine\)\.$"):
        pre.transform(_frame().drop(columns=["flag", "age"]))


def test_fit_refuses_what_it_cannot_encode():
    with pytest.raises(InputError, match=r"^X must be a pandas DataFrame; received ndarray\.$"):
        Preprocessor().fit(np.zeros((2, 2)))
    with pytest.raises(InputError, match=r"^no training rows to fit the preprocessing on; give more data\.$"):
        Preprocessor().fit(pd.DataFrame({"a": []}))
    # An interval column is neither numbers nor text.
    intervals = pd.DataFrame({"z": pd.arrays.IntervalArray.from_breaks([0, 1, 2])})
    with pytest.raises(InputError, match=r"^column 'z' has type interval\[int64, right\], which kerasnet "
                                         r"cannot encode; convert it to numbers or strings, or leave it out "
                                         r"\(drop='z'\)\.$"):
        Preprocessor().fit(intervals)


def test_not_fitted_is_a_runtime_error():
    pre = Preprocessor()
    message = r"^this Preprocessor is not fitted yet; call fit\(X, y\) first\.$"
    for call in (lambda: pre.transform(_frame()), lambda: pre.encode_target([1]), lambda: pre.to_dict(),
                 lambda: pre.decode_predictions([[0.5]]), lambda: pre.n_features_out,
                 lambda: pre.input_columns):
        with pytest.raises(RuntimeError, match=message):
            call()


# ----------------------------------------------------------------------------- targets


def test_string_classes_are_label_encoder_codes():
    y = pd.Series(["cat", "dog", "bird", "dog", "cat", "bird"], name="pet")
    pre = Preprocessor().fit(_frame(), y)
    assert (pre.task_, pre.target_, pre.n_outputs) == ("multiclass", "pet", 3)
    assert pre.classes_ == list(LabelEncoder().fit(y).classes_)
    codes = pre.encode_target(y)
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, LabelEncoder().fit(y).transform(y))


def test_binary_codes_are_float32_and_numeric_classes_are_plain_ints():
    y = pd.Series(np.array([7, 3, 3, 7, 7, 3], dtype="int64"))  # no name
    pre = Preprocessor().fit(_frame(), y)
    assert (pre.task_, pre.target_, pre.n_outputs) == ("binary", None, 1)
    assert pre.classes_ == [3, 7] and all(type(c) is int for c in pre.classes_)
    codes = pre.encode_target([3, 7, 7])
    assert codes.dtype == np.float32
    np.testing.assert_array_equal(codes, [0.0, 1.0, 1.0])
    # Labels read back as text ("7" from a CSV column of strings) still find their class.
    np.testing.assert_array_equal(pre.encode_target(pd.Series(["7", "3"], dtype=object)), [1.0, 0.0])
    with pytest.raises(InputError, match=r"^target has classes not seen in training: 5, 9; "
                                         r"known classes are 3, 7\.$"):
        pre.encode_target([9, 3, 5])


def test_boolean_target_keeps_its_type():
    y = pd.Series([True, False, True, True, False, False], name="ok")
    pre = Preprocessor().fit(_frame(), y)
    assert pre.classes_ == [False, True] and all(type(c) is bool for c in pre.classes_)
    np.testing.assert_array_equal(pre.encode_target(y), y.astype("float32"))


def test_regression_target_is_left_in_its_units():
    y = pd.Series([0.5, 1.25, 3.0, 2.5, 8.0, 1.0], name="price")
    pre = Preprocessor().fit(_frame(), y)
    assert (pre.task_, pre.classes_, pre.n_outputs) == ("regression", None, 1)
    out = pre.encode_target(y)
    assert out.dtype == np.float32 and out.shape == (6, 1)
    np.testing.assert_array_equal(out[:, 0], y.to_numpy(dtype="float32"))
    # A forced regression task on integer classes works; on text it is refused by name.
    assert Preprocessor(task="regression").fit(_frame(), pd.Series([0, 1, 2, 0, 1, 2])).task_ == "regression"
    with pytest.raises(InputError, match=r"^task 'regression' needs a numeric target, but 'kind' holds "
                                         r"values like 'a'; use task='binary' or task='multiclass'\.$"):
        Preprocessor(task="regression").fit(_frame(), pd.Series(list("abcabc"), name="kind"))
    with pytest.raises(InputError, match=r"^target contain missing or infinite values"):
        pre.encode_target([1.0, np.nan])


def test_forced_tasks_are_checked():
    y3 = pd.Series(list("abcabc"), name="t")
    with pytest.raises(InputError, match=r"^task 'binary' needs exactly 2 classes, but target 't' has 3 "
                                         r"\(a, b, c\); use task='multiclass'"):
        Preprocessor(task="binary").fit(_frame(), y3)
    pre = Preprocessor(task="multiclass").fit(_frame(), pd.Series(list("abbaab")))
    assert (pre.task_, pre.n_outputs, pre.target_) == ("multiclass", 2, None)
    with pytest.raises(InputError, match=r"^task must be one of binary, multiclass, regression, poisson, "
                                         r"cox; received 'ordinal'\.$"):
        Preprocessor(task="ordinal").fit(_frame())
    counts = Preprocessor(task="poisson").fit(_frame(), pd.Series([0, 3, 1, 2, 0, 5], name="claims"))
    assert counts.classes_ is None and counts.encode_target([2, 0]).tolist() == [[2.0], [0.0]]
    assert list(counts.decode_predictions([1.5, 0.2]).columns) == ["predicted_claims"]
    with pytest.raises(InputError, match="needs counts >= 0"):
        Preprocessor(task="poisson").fit(_frame(), pd.Series([0, -3, 1, 2, 0, 5]))


def test_fit_without_target_has_no_task_unless_given():
    pre = Preprocessor().fit(_frame())
    assert (pre.task_, pre.target_, pre.classes_) == (None, None, None)
    assert Preprocessor(task="binary").fit(_frame()).task_ == "binary"


# ----------------------------------------------------------------------------- decoding


def test_decode_binary_multiclass_and_regression():
    binary = Preprocessor().fit(_frame(), pd.Series(list("nnyyny"), name="buy"))
    out = binary.decode_predictions(np.array([0.2, 0.9]))  # 1-d: one probability per row
    assert list(out.columns) == ["predicted_buy", "proba_n", "proba_y"]
    assert out["predicted_buy"].tolist() == ["n", "y"]
    np.testing.assert_allclose(out[["proba_n", "proba_y"]], [[0.8, 0.2], [0.1, 0.9]])

    multi = Preprocessor().fit(_frame(), pd.Series([2, 0, 1, 1, 0, 2]))
    proba = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    out = multi.decode_predictions(proba)
    assert list(out.columns) == ["predicted_target", "proba_0", "proba_1", "proba_2"]
    assert out["predicted_target"].tolist() == [1, 0]
    np.testing.assert_array_equal(out[["proba_0", "proba_1", "proba_2"]], proba)

    reg = Preprocessor().fit(_frame(), pd.Series([0.5, 1.5, 2.5, 3.25, 4.0, 7.5], name="v"))
    np.testing.assert_array_equal(reg.decode_predictions([1.5, 2.0])["predicted_v"], [1.5, 2.0])
    two = reg.decode_predictions([[1.0, 2.0], [3.0, 4.0]])
    assert list(two.columns) == ["predicted_v_0", "predicted_v_1"]
    np.testing.assert_array_equal(two.to_numpy(), [[1.0, 2.0], [3.0, 4.0]])


# ----------------------------------------------------------------------------- saved state


def test_state_is_plain_json_and_round_trips(tmp_path):
    y = pd.Series(np.array([3, 7, 3, 9, 7, 9]), name="k")
    pre = Preprocessor().fit(_frame(), y)
    state = pre.to_dict()
    assert state == json.loads(pre.to_json())
    assert set(state) == {"format", "version", "task", "target", "classes", "columns", "feature_names"}
    assert (state["format"], state["version"], state["task"], state["target"]) == (
        "kerasnet.preprocessing", 1, "multiclass", "k")
    assert pre.to_json() == json.dumps(state, indent=2)
    path = tmp_path / "preprocessing.json"
    pre.save(path)
    assert path.read_text(encoding="utf-8") == pre.to_json() + "\n"
    again = Preprocessor.load(path)
    assert again.to_dict() == state and again.task == "multiclass"
    np.testing.assert_array_equal(again.transform(_frame()), pre.transform(_frame()))
    np.testing.assert_array_equal(again.encode_target(y), pre.encode_target(y))
    # The loaded copy does not share lists with the state it came from.
    again.columns_.append("x")
    again.feature_names_.append("x")
    assert len(state["columns"]) == 4 and len(state["feature_names"]) == 7


def test_json_refuses_nan_statistics():
    pre = Preprocessor().fit(_frame())
    pre.columns_[0]["mean"] = float("nan")
    with pytest.raises(ValueError, match="not JSON compliant"):
        pre.to_json()


@pytest.mark.parametrize(
    "state, match",
    [
        ({"format": "other"}, r"^this is not a kerasnet preprocessing file \(no 'format': "
                              r"'kerasnet\.preprocessing'\); give the preprocessing\.json that kerasnet fit"),
        ([1, 2], r"^this is not a kerasnet preprocessing file"),
        ({"format": "kerasnet.preprocessing", "version": 2},
         r"^preprocessing format version 2 is not supported \(this kerasnet reads version 1\); "
         r"refit with this kerasnet\.$"),
        ({"format": "kerasnet.preprocessing"}, r"^preprocessing format version None is not supported"),
        ({"format": "kerasnet.preprocessing", "version": 1, "task": "ranking", "columns": [],
          "feature_names": []}, r"^the preprocessing file is damaged or not kerasnet's: its task 'ranking' "
                                r"is not one of binary, multiclass"),
    ],
)
def test_from_dict_refuses_other_files(state, match):
    with pytest.raises(InputError, match=match):
        Preprocessor.from_dict(state)


def test_from_dict_without_optional_keys():
    pre = Preprocessor.from_dict({"format": "kerasnet.preprocessing", "version": 1, "task": "binary",
                                  "columns": [], "feature_names": []})
    assert (pre.task_, pre.target_, pre.classes_, pre.n_features_out) == ("binary", None, None, 0)


def test_bad_files_give_one_line_errors(tmp_path):
    with pytest.raises(InputError, match=r"^preprocessing file is not valid JSON: .*; refit the model\.$"):
        Preprocessor.from_json("{not json")
    missing = tmp_path / "nope.json"
    with pytest.raises(InputError, match=r"^cannot read preprocessing file '.*nope\.json': "
                                         r"No such file or directory\.$"):
        Preprocessor.load(missing)


# ----------------------------------------------------------------------------- edges the mutants found


def test_small_spread_is_still_divided_by_and_statistics_are_float64():
    # std 0.5 (< 1) is a real spread: scale 0.5, not the constant column's 1.
    pre = Preprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}))
    assert pre.columns_[0]["scale"] == 0.5
    np.testing.assert_array_equal(pre.transform(pd.DataFrame({"a": [2.5]})), [[2.0]])
    # A float16 column: statistics and standardized values computed in float64, as StandardScaler.
    x = np.array([0.1, 0.2, 0.4, 0.7], dtype="float16")
    pre = Preprocessor().fit(pd.DataFrame({"h": x}))
    ref = StandardScaler().fit(x.astype("float64")[:, None])
    assert pre.columns_[0]["mean"] == pytest.approx(ref.mean_[0], rel=1e-12)
    assert pre.columns_[0]["scale"] == pytest.approx(ref.scale_[0], rel=1e-12)
    np.testing.assert_allclose(pre.transform(pd.DataFrame({"h": x}))[:, 0],
                               ref.transform(x.astype("float64")[:, None])[:, 0], rtol=1e-6)


def test_missing_values_message_says_features_or_target():
    pre = Preprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}))
    match = r"^features contain missing or infinite values: 'a' \(1 missing/NaN\); fill or remove"
    with pytest.raises(InputError, match=match):
        Preprocessor().fit(pd.DataFrame({"a": [1.0, np.nan]}))
    with pytest.raises(InputError, match=match):
        pre.transform(pd.DataFrame({"a": [np.nan, 2.0]}))
    with pytest.raises(InputError, match=r"^target contain missing or infinite values: .*1 inf"):
        Preprocessor().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), [0.5, np.inf, 1.0])


def test_date_column_message():
    frame = pd.DataFrame({"d": pd.to_datetime(["2024-01-05", "2024-02-05"])})
    match = (r"^column 'd' holds dates or times \(datetime64\[.*\]\), which kerasnet does not encode; "
             r"convert them to numbers \(for example days since a fixed date\), or leave the column out "
             r"\(drop='d'\)\.$")
    with pytest.raises(InputError, match=match):
        Preprocessor().fit(frame)


def test_target_as_a_list_or_array_and_unnamed_targets_in_messages():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    for y in (["no", "yes", "yes", "no"], np.array(["no", "yes", "yes", "no"])):
        pre = Preprocessor().fit(X, y)
        assert (pre.task_, pre.target_, pre.classes_) == ("binary", None, ["no", "yes"])
    with pytest.raises(InputError, match=r"^task 'regression' needs a numeric target, but 'y' holds values "
                                         r"like 'a'"):
        Preprocessor(task="regression").fit(X, ["a", "b", "a", "c"])
    with pytest.raises(InputError, match=r"^task 'binary' needs exactly 2 classes, but target 'y' has 3"):
        Preprocessor(task="binary").fit(X, ["a", "b", "a", "c"])


def test_long_lists_in_messages_are_cut_at_their_limits():
    X = pd.DataFrame({f"c{i}": [1.0, 2.0] for i in range(10)})
    pre = Preprocessor().fit(X)
    # Missing columns: the first 8, then the count.
    with pytest.raises(InputError, match=r"columns used in training: c0, c1, c2, c3, c4, c5, c6, c7, "
                                         r"\.\.\. \(10 in all\); add them"):
        pre.transform(pd.DataFrame({"other": [1.0]}))
    # Unseen categories: 3 per column; 5 columns in full, a 6th adds the count.
    cats = pd.DataFrame({f"s{i}": ["a", "b"] for i in range(6)})
    pre = Preprocessor().fit(cats)
    new = pd.DataFrame({f"s{i}": ["x", "y"] for i in range(6)})
    new["s0"] = ["p", "q"]
    new.loc[:, "s1"] = ["k", "m"]
    with pytest.raises(InputError, match=r"^categories not seen in training: 's0': p, q; 's1': k, m; 's2': "
                                         r"x, y; 's3': x, y; 's4': x, y; \.\.\. \(6 columns in all\); give"):
        pre.transform(new)
    with pytest.raises(InputError, match=r"'s4': x, y; give only categories"):
        pre.transform(new.drop(columns="s5").assign(s5=["a", "b"]))
    five = Preprocessor().fit(pd.DataFrame({"s": list("abcdefg")}))
    with pytest.raises(InputError, match=r"^categories not seen in training: 's': p, q, r, \.\.\. \(5 in"):
        five.transform(pd.DataFrame({"s": list("pqrst")}))
    # Unknown target classes: the known ones listed up to 10.
    y = pd.Series(list(range(12)) * 2)
    many = Preprocessor().fit(pd.DataFrame({"a": np.arange(24.0)}), y)
    with pytest.raises(InputError, match=r"known classes are 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, \.\.\. \(12"):
        many.encode_target([40])


def test_decoded_values_are_floats_even_for_integer_outputs():
    reg = Preprocessor().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), pd.Series([0.5, 1.5, 2.25], name="v"))
    out = reg.decode_predictions(np.array([1, 2]))
    assert out["predicted_v"].dtype == np.float64
