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


# --------------------------------------------------------------------------- refused columns


def _stray(n=40, bad=("?", "n/a", "1,5", "?"), seed=0):
    """A numeric column as text, with ``bad`` cells at rows 3, 7, 11, ..."""
    values = np.random.default_rng(seed).normal(size=n).round(3).astype(str).astype(object)
    for i, cell in enumerate(bad):
        values[3 + 4 * i] = cell
    return values


def test_numbers_with_stray_text_are_refused_naming_column_and_first_bad_values():
    with pytest.raises(InputError) as err:
        Preprocessor().fit(_frame(40).assign(price=_stray()))
    message = str(err.value)
    assert "column 'price' holds numbers but 4 of 40 cells are not numbers: '?', 'n/a', '1,5';" in message
    assert "decimal point, not a comma" in message and "(drop='price')" in message
    assert "\n" not in message


def test_stray_text_message_lists_at_most_five_values_and_hints_comma_only_when_relevant():
    bad = [f"bad{i}" for i in range(12)]
    with pytest.raises(InputError) as err:
        Preprocessor().fit(pd.DataFrame({"v": _stray(60, bad)}))
    message = str(err.value)
    assert "'bad0', 'bad1', 'bad2', 'bad3', 'bad4', ... (12 in all)" in message
    assert "bad5" not in message and "comma" not in message


def test_stray_text_refused_in_a_pandas_string_column_read_from_csv(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": _stray(30, ("?",)), "y": range(30)}).to_csv(path, index=False)
    frame = load_table(path)
    assert not pd.api.types.is_numeric_dtype(frame["x"])  # what pandas made of it
    with pytest.raises(InputError, match=r"column 'x' holds numbers but 1 of 30 cells are not numbers: '\?'"):
        Preprocessor().fit(frame[["x"]])


def test_mostly_text_column_with_some_numbers_stays_categorical():
    # Half or fewer cells are numbers: categories, not a numeric column with typos.
    col = ["small", "large", "3", "4"] * 5
    pre = Preprocessor().fit(pd.DataFrame({"size": col}))
    assert pre.columns_[0]["kind"] == "categorical"
    assert pre.columns_[0]["categories"] == ["3", "4", "large", "small"]


def test_target_of_numbers_with_stray_text_is_refused():
    y = pd.Series(["1", "2", "3", "?"] * 5 + ["n/a"], name="price")
    expected = r"target 'price' holds numbers but 6 of 21 values are not numbers: '\?', 'n/a'"
    with pytest.raises(InputError, match=expected):
        infer_task(y)
    with pytest.raises(InputError, match="target 'price' holds numbers"):
        Preprocessor(task="multiclass").fit(pd.DataFrame({"a": range(21)}), y)


@pytest.mark.parametrize(
    "dates",
    [
        pd.date_range("2024-01-01", periods=30).astype(str),  # 2024-01-01
        pd.date_range("2024-01-01", periods=30).strftime("%d/%m/%Y"),
        pd.date_range("2024-01-01", periods=30).strftime("%d.%m.%Y"),
        pd.date_range("2024-01-01", periods=30, freq="h").strftime("%Y-%m-%dT%H:%M:%S"),
        pd.Series(pd.date_range("2024-01-01", periods=30).date),  # datetime.date objects (Parquet date32)
    ],
)
def test_text_dates_are_refused_with_the_fix(dates):
    frame = pd.DataFrame({"x": np.arange(30.0), "day": list(dates)})
    with pytest.raises(InputError) as err:
        Preprocessor().fit(frame)
    message = str(err.value)
    assert message.startswith("column 'day' holds dates (such as '")
    assert "convert them to numbers" in message and "(drop='day')" in message


@pytest.mark.parametrize(
    "column",
    [
        pd.date_range("2024-01-01", periods=30),
        pd.date_range("2024-01-01", periods=30, tz="UTC"),
        pd.to_timedelta(np.arange(30), unit="D"),
        pd.period_range("2024-01", periods=30, freq="M"),
    ],
)
def test_datetime_dtypes_are_refused_with_the_fix(column):
    with pytest.raises(InputError, match=r"column 'when' holds dates or times \(.*\).*\(drop='when'\)"):
        Preprocessor().fit(pd.DataFrame({"x": np.arange(30.0), "when": column}))


def test_month_names_and_versions_are_categories_not_dates():
    frame = pd.DataFrame(
        {"month": ["March", "April", "May"] * 10, "version": ["3.10.12", "3.11.4", "3.12.1"] * 10}
    )
    pre = Preprocessor().fit(frame)
    assert [c["kind"] for c in pre.columns_] == ["categorical", "categorical"]


@pytest.mark.parametrize(
    "values", [[f"user{i}" for i in range(30)], [f"free text number {i}" for i in range(40)]]
)
def test_id_or_free_text_column_is_refused(values):
    frame = pd.DataFrame({"x": np.arange(len(values), dtype=float), "name": values})
    with pytest.raises(InputError) as err:
        Preprocessor().fit(frame)
    message = str(err.value)
    n = len(values)
    assert message.startswith(f"column 'name' has {n} distinct values in {n} training rows")
    assert "looks like an id or free text" in message and "(drop='name')" in message


def test_many_numbers_stored_as_text_are_refused_with_convert_advice():
    frame = pd.DataFrame({"zip": [str(10000 + i) for i in range(30)]}, dtype=object)
    with pytest.raises(InputError, match=r"column 'zip' has 30 distinct.*numbers stored as text; convert"):
        Preprocessor().fit(frame)


@pytest.mark.parametrize(
    "n_rows, n_distinct",
    [
        (data.ID_MIN_DISTINCT, data.ID_MIN_DISTINCT),  # all distinct, but only 20 values: a small table
        (100, 50),  # many values, but exactly half of the rows: still categories
        (3, 2),  # a tiny table with a two-category column
    ],
)
def test_categorical_columns_under_the_id_thresholds_are_encoded(n_rows, n_distinct):
    values = [f"c{i % n_distinct}" for i in range(n_rows)]
    pre = Preprocessor().fit(pd.DataFrame({"cat": values}))
    assert pre.n_features_out == n_distinct
    # Just over both thresholds is refused.
    over = [f"c{i}" for i in range(data.ID_MIN_DISTINCT + 1)] + ["c0"] * data.ID_MIN_DISTINCT
    with pytest.raises(InputError, match="looks like an id"):
        Preprocessor().fit(pd.DataFrame({"cat": over}))


def test_legitimate_categories_still_fit_save_and_transform_new_rows(tmp_path):
    train = pd.DataFrame({"x": [1.0, 2.5, 3.0, 4.5], "color": ["red", "blue", "red", "green"],
                          "code": pd.Series(["01", "02", "01", "02"], dtype=object)})
    pre = Preprocessor().fit(train, pd.Series(["no", "yes", "yes", "no"], name="buy"))
    pre.save(tmp_path / "preprocessing.json")
    again = Preprocessor.load(tmp_path / "preprocessing.json")
    new = pd.DataFrame({"color": ["green", "red"], "code": ["02", "01"], "x": [2.0, 3.0]})
    np.testing.assert_allclose(
        again.transform(new)[:, 1:],
        [[0, 1, 0, 0, 1], [0, 0, 1, 1, 0]],
    )
    assert again.feature_names_ == ["x", "color=blue", "color=green", "color=red", "code=01", "code=02"]


# --------------------------------------------------------------------------- duplicate names


def test_duplicate_csv_header_names_are_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,a,c,b,a\n1,2,3,4,5,6\n")
    assert list(pd.read_csv(path).columns) == ["a", "b", "a.1", "c", "b.1", "a.2"]  # what pandas hides
    expected = r"duplicate column names in data file '.*t.csv': 'a' \(3 times\), 'b' \(2 times\);"
    with pytest.raises(InputError, match=expected):
        load_table(path)


def test_csv_names_like_pandas_renames_are_fine(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,a.1,1,1.0\n1,2,3,4\n")
    assert list(load_table(path).columns) == ["a", "a.1", "1", "1.0"]


def test_duplicate_names_in_dataframe_and_parquet_are_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "b", "a"])
    with pytest.raises(InputError, match=r"duplicate column names in the data: 'a' \(2 times\)"):
        load_table(frame)
    with pytest.raises(InputError, match=r"duplicate column names in the data: '1' \(2 times\)"):
        load_table(pd.DataFrame([[1, 2]], columns=[1, "1"]))  # the same once names are text
    with pytest.raises(InputError, match=r"duplicate column names in the features: 'a'"):
        Preprocessor().fit(frame)
    pq.write_table(pa.table([pa.array([1]), pa.array([2])], names=["x", "x"]), tmp_path / "t.parquet")
    with pytest.raises(InputError) as err:
        load_table(tmp_path / "t.parquet")
    assert str(err.value) == (
        f"duplicate column names in Parquet file '{tmp_path / 't.parquet'}': 'x' (2 times); "
        "rename them so every column has its own name."
    )


# --------------------------------------------------------------------------- short messages


def test_binary_with_many_classes_lists_a_few():
    X = pd.DataFrame({"a": np.arange(500.0)})
    with pytest.raises(InputError) as err:
        Preprocessor(task="binary").fit(X, pd.Series([f"class{i:03d}" for i in range(500)], name="t"))
    message = str(err.value)
    listed = "class000, class001, class002, class003, class004, ... (500 in all)"
    assert f"target 't' has 500 ({listed})" in message
    assert len(message) < 250


def test_unseen_categories_over_many_columns_are_shortened():
    train = pd.DataFrame({f"c{i}": ["a", "b"] for i in range(40)})
    pre = Preprocessor().fit(train)
    with pytest.raises(InputError) as err:
        pre.transform(pd.DataFrame({f"c{i}": ["z" * 500, "y"] for i in range(40)}))
    message = str(err.value)
    assert "'c4': y, zzzz" in message and "'c5'" not in message and "(40 columns in all)" in message
    assert len(message) < 600


def test_missing_values_in_many_columns_name_the_first_ten():
    with pytest.raises(InputError) as err:
        Preprocessor().fit(pd.DataFrame({f"col{i}": [np.nan, 1.0] for i in range(300)}))
    message = str(err.value)
    assert "'col9' (1 missing/NaN), ... (300 in all)" in message and "col10" not in message


def test_long_values_and_numpy_scalars_print_plainly():
    with pytest.raises(InputError, match=r"target 'k' has one class \(0\) in 3 rows"):
        infer_task(pd.Series(np.zeros(3, dtype=np.int64), name="k"))
    with pytest.raises(InputError) as err:
        infer_task(pd.Series(["x" * 5000] * 3, name="t"))
    assert len(str(err.value)) < 200 and "xxx..." in str(err.value)
    with pytest.raises(InputError, match=r"received 1.5\.$"):
        data.split_rows(10, np.float64(1.5))
