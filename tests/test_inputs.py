"""Bad inputs to the Python API end before any training, in one line naming the argument.

Every refusal is asserted with ``training`` in place: the engine's ``fit_members`` and its
cluster form, as the stages call them (the only way into the engine from ``fit_path`` and
``stability_selection``, through :func:`kerasnet.path.stages.train`), raise :class:`Trained`, so a
check that happens only after training fails the test with ``Trained`` instead of the message.
The accepted neighbours of each refused value reach training (``Trained``): a check that
refuses too much fails too.
"""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold

import kerasnet.path.pipeline as pipeline_module
import kerasnet.path.stability as stability_module
import kerasnet.path.stages as stages_module
from kerasnet import fit_path, mlp
from kerasnet.errors import InputError
from kerasnet.path import Path, arguments, stability_selection
from kerasnet.path.inputs import check_features, encode_target


class Trained(Exception):
    """Raised where training would start."""


@pytest.fixture
def training(monkeypatch):
    def refuse(*args, **kwargs):
        raise Trained

    monkeypatch.setattr(stages_module, "fit_members", refuse)
    monkeypatch.setattr(stages_module, "fit_members_on_cluster", refuse)
    monkeypatch.setattr(stability_module, "dense_starts", refuse)
    monkeypatch.setattr(pipeline_module, "dense_starts", refuse)


RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 3))
Y = (X[:, 0] > 0).astype(int)
KW = dict(hidden=(4,), epochs=2, cv=3, n_lambdas=2, verbose=0, seed=0)


def refused(call, *pieces):
    """``call()``'s InputError (one line, holding every piece), asserting it raised before training."""
    with pytest.raises(InputError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    for piece in pieces:
        assert piece in message, message
    return message


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize("rate", [np.inf, -np.inf, np.nan, 0.0, -1e-3, "abc", "1e-3", True])
def test_learning_rate_not_finite_positive_is_refused(training, rate):
    refused(lambda: fit_path(X, Y, learning_rate=rate, **KW), "learning_rate", "finite number > 0",
            repr(rate) if isinstance(rate, str) else "")


@pytest.mark.parametrize("rate", [1e-3, np.float32(0.05), 10, None])
def test_learning_rates_in_range_reach_training(training, rate):
    with pytest.raises(Trained):
        fit_path(X, Y, learning_rate=rate, **KW)


@pytest.mark.parametrize("lambdas, piece", [
    ([1e30], "at most 1e+06"), ([0.1, 2e6], "received 2000000.0"), ([np.inf], "finite"),
    ([np.nan], "finite"), ([-1.0], ">= 0"), (["a"], "'a'"), ("0.1", "string"), ([], "at least one"),
    ([[0.1, 0.2]], "1-D"),
])
def test_bad_strengths_are_refused_before_training(training, lambdas, piece):
    # feature_selection=True trains its dense starts before the grid: still refused first.
    for extra in ({}, {"feature_selection": True}):
        refused(lambda extra=extra: fit_path(X, Y, lambdas=lambdas, **KW, **extra), "lambdas", piece)


def test_strength_limit_is_the_command_lines_and_reaches_training_at_it(training):
    from kerasnet.cli._common import MAX_STRENGTH

    assert arguments.MAX_STRENGTH == MAX_STRENGTH == 1e6
    with pytest.raises(Trained):
        fit_path(X, Y, lambdas=[1e6, 0.0], **KW)


@pytest.mark.parametrize("cv, piece", [("5", "cv='5' of type str (the number: cv=5)"), ("abc", "'abc'"),
                                       (None, "None"), (True, "True"), (2.5, "float"), (1, ">= 2")])
def test_cv_that_is_no_int_splitter_or_pairs_is_refused(training, cv, piece):
    refused(lambda: fit_path(X, Y, **{**KW, "cv": cv}), "cv", piece)


@pytest.mark.parametrize("cv", [3, np.int64(3), KFold(3), list(KFold(3).split(X))])
def test_cv_ints_splitters_and_pairs_reach_training(training, cv):
    with pytest.raises(Trained):
        fit_path(X, Y, **{**KW, "cv": cv})


def test_cv_is_not_looked_at_when_foldid_overrides_it(training):
    with pytest.raises(Trained):
        fit_path(X, Y, **{**KW, "cv": None}, foldid=np.arange(len(Y)) % 3)


@pytest.mark.parametrize("hidden, piece", [("64", "hidden='64'"), (b"64", "hidden=b'64'"), ((0,), "(0,)"),
                                           ((4, -1), "(4, -1)"), ((4.0,), "(4.0,)"), (None, "None"),
                                           ((True,), "(True,)")])
def test_hidden_as_a_string_or_non_positive_sizes_is_refused(training, hidden, piece):
    refused(lambda: fit_path(X, Y, **{**KW, "hidden": hidden}), "hidden", piece)


def test_hidden_as_a_string_is_refused_by_mlp_too():
    with pytest.raises(ValueError, match=re.escape("received the string '64'")):
        mlp(3, 1, "64", "binary")


@pytest.mark.parametrize("hidden, sizes", [(4, (4,)), (np.int64(4), (4,)), ([4, 2], (4, 2)),
                                           (np.array([3]), (3,)), ((), ())])
def test_hidden_int_is_one_layer_and_sequences_their_sizes(training, hidden, sizes):
    assert arguments.check_hidden(hidden) == sizes
    with pytest.raises(Trained):
        fit_path(X, Y, **{**KW, "hidden": hidden})


@pytest.mark.parametrize("seed", ["abc", -5, 1.5, 2**32, True, np.float64(3.0)])
def test_seeds_outside_numpys_32_bits_are_refused(training, seed):
    message = refused(lambda: fit_path(X, Y, **{**KW, "seed": seed}), "seed", "[0, 2**32 - 1]")
    assert f"seed={seed!r}"[:30] in message or f"seed={float(seed)!r}" in message


def test_seed_bounds_are_numpys_randomstate():
    np.random.RandomState(2**32 - 1)  # noqa: NPY002 (the bound scikit-learn's random_state shares)
    for bad in (2**32, -1):
        with pytest.raises(ValueError):
            np.random.RandomState(bad)  # noqa: NPY002
        with pytest.raises(InputError):
            arguments.check_seed(bad)
    assert arguments.check_seed(np.uint32(2**32 - 1)) == 2**32 - 1 and arguments.check_seed(None) is None


@pytest.mark.parametrize("model", ["resnet", 3, [1, 2]])
def test_model_that_is_no_keras_model_or_callable_is_refused(training, model):
    refused(lambda: fit_path(X, Y, model=model, **KW), "model must be a keras.Model or a function",
            f"of type {type(model).__name__}")


# ----------------------------------------------------------------------------- features


def _both(call_fit, call_stable, *pieces):
    refused(call_fit, *pieces)
    refused(call_stable, *pieces)


def _stable(Xb, y=Y):
    return lambda: stability_selection(Xb, y, epochs=1, n_pairs=1, verbose=0)


def test_sparse_matrix_is_called_sparse_with_the_fix(training):
    Xs = sp.csr_matrix(X)
    _both(lambda: fit_path(Xs, Y, **KW), _stable(Xs), "scipy sparse matrix", "X.toarray()")


def test_missing_values_name_the_column_and_first_row(training):
    frame = pd.DataFrame({"a": X[:, 0], "b": pd.array([1, 2, None] * 8, dtype="Int64"), "c": X[:, 2]})
    first = int(np.flatnonzero(frame["b"].isna().to_numpy())[0])  # pandas' own NA test
    count = int(frame["b"].isna().sum())
    _both(lambda: fit_path(frame, Y, **KW), _stable(frame), "missing values in column 'b'",
          f"({count}, the first in row {first})")


def test_nullable_and_boolean_columns_without_missing_values_reach_training(training):
    frame = pd.DataFrame({"a": pd.array(np.arange(24) % 5, dtype="Int64"), "b": X[:, 1] > 0, "c": X[:, 2]})
    with pytest.raises(Trained):
        fit_path(frame, Y, **KW)


def test_text_column_is_named(training):
    frame = pd.DataFrame({"a": X[:, 0], "city": ["Oslo", "Rome"] * 12})
    _both(lambda: fit_path(frame, Y, **KW), _stable(frame), "column 'city' is not numeric", "'Oslo'")


def test_object_array_of_strings_names_the_first_text_cell(training):
    Xo = X.astype(object)
    Xo[4, 2] = "n/a"
    _both(lambda: fit_path(Xo, Y, **KW), _stable(Xo), "'n/a' (str) at row 4, column 2", "encode")


def test_complex_features_are_refused_not_cast(training):
    _both(lambda: fit_path(X + 1j, Y, **KW), _stable(X + 1j), "complex values")
    frame = pd.DataFrame({"a": X[:, 0] + 0j, "b": X[:, 1]})
    refused(lambda: fit_path(frame, Y, **KW), "column 'a' has complex values")


def test_a_path_given_to_stability_selection_says_it_takes_data_in_memory(training, tmp_path):
    path = tmp_path / "d.parquet"
    _both(lambda: stability_selection(str(path), "y", verbose=0), _stable(path), "is a path",
          "in memory", "pandas.read_parquet")


def test_value_beyond_float32_is_named_not_called_infinite(training):
    Xb = X.copy()
    Xb[7, 1] = 1e39
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.float32(Xb[7, 1])) and np.isfinite(Xb[7, 1])  # why: float32 overflows
    _both(lambda: fit_path(Xb, Y, **KW), _stable(Xb), "beyond float32's range", "column 1, row 7", "1e+39")
    Xb[7, 1] = np.nan
    refused(lambda: fit_path(Xb, Y, **KW), "NaN or infinite value in column 1, row 7")


def test_ragged_and_none_features_are_named(training):
    refused(lambda: fit_path(None, Y, **KW), "X is None")
    refused(lambda: fit_path([[1.0, 2.0], [3.0]], [0, 1], **KW), "rows of different lengths")


# ----------------------------------------------------------------------------- target


def test_target_none_or_scalar_is_named(training):
    refused(lambda: fit_path(X, None, **KW), "y is None")
    refused(lambda: fit_path(X, 3, **KW), "scalar 3")


def test_two_column_target_for_classes_is_refused_with_the_alternatives(training):
    two = np.column_stack([Y, 1 - Y])
    for task in ("binary", "multiclass"):
        refused(lambda task=task: fit_path(X, two, task=task, **KW), f"task={task!r}",
                "one class label per row", "shape (24, 2)", "y.argmax(axis=1)")


def test_missing_labels_and_mixed_label_types_are_named():
    labels = pd.Series(pd.array([1, 0, None, 1], dtype="Int64")).to_numpy()
    for task in ("binary", None):
        refused(lambda task=task: encode_target(labels, task), "missing value in row 2",
                "rows missing one: 1")
    refused(lambda: encode_target(np.array([1, "a", 1, "a"], dtype=object), "binary"), "mix types (int, str)")
    refused(lambda: encode_target(np.array([1.0, np.inf, 2.0]), "regression"), "row 1")
    refused(lambda: encode_target(np.array(["a", "b", "a"]), "regression"), "numeric target", "'a'")


# ----------------------------------------------------------------------------- a path as X


def test_a_path_that_is_no_parquet_file_says_what_is_accepted(training, tmp_path):
    csv = tmp_path / "d.csv"
    pd.DataFrame(X, columns=list("abc")).assign(y=Y).to_csv(csv, index=False)
    fake = tmp_path / "e.parquet"
    fake.write_text("a,b\n1,2\n")
    accepted = "a path given as X must be one Parquet file"
    refused(lambda: fit_path(str(csv), "y", **KW), "is not a Parquet file", accepted, "pandas.read_csv")
    refused(lambda: fit_path(fake, "y", **KW), "is not a Parquet file", accepted)
    refused(lambda: fit_path(str(tmp_path), "y", **KW), "is a folder", accepted,
            "dask.dataframe.read_parquet")
    refused(lambda: fit_path(str(tmp_path / "none.parquet"), "y", **KW), "does not exist", accepted)


def test_parquet_file_with_target_none_is_named(training, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(X, columns=list("abc")).assign(y=Y)), path)
    refused(lambda: fit_path(path, None, **KW), "y is None", "column name")
    with pytest.raises(Trained):  # the same file, named target: accepted
        fit_path(path, "y", **KW)


# ----------------------------------------------------------------------------- Path.predict


def _linear_path(d=3):
    """A binary path of a linear model built by hand (no training): eta = x @ w."""
    w = np.array([[1.0], [-2.0], [0.5]], "float32")[:d]
    return Path(lambdas=[0.1], l1_ratio=0.5, task="binary", classes=np.array(["no", "yes"]),
                feature_names=[f"x{j}" for j in range(d)], cv_values={"deviance": [[1.0, 1.0]]},
                measure="deviance", member_diverged=np.zeros((1, 2), bool), best_epoch=np.ones((1, 2), int),
                refit_epochs=np.ones(1, int), refit_diverged=[False], weights=[[w, np.zeros(1, "float32")]],
                n_outputs=1, proximal=False, hidden=(), mean=np.zeros(d), scale=np.ones(d))


@pytest.mark.parametrize("m", [2, 4])
def test_predict_with_another_column_count_names_both(m):
    refused(lambda: _linear_path().predict(np.zeros((5, m))), f"X has {m} feature columns",
            "fit on 3", "same columns")


def test_predict_refuses_text_and_values_beyond_float32():
    refused(lambda: _linear_path().predict(np.array([["a", 1, 2]], dtype=object)), "'a' (str) at row 0")
    refused(lambda: _linear_path().predict(np.array([[1e39, 0.0, 0.0]])), "beyond float32's range")


def test_predict_of_a_dataframe_gives_the_hand_computed_classes():
    rows = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]])
    eta = rows @ np.array([1.0, -2.0, 0.5])  # by hand: the path's weights, mean 0, scale 1
    expected = np.where(eta > 0, "yes", "no")
    predicted = _linear_path().predict(pd.DataFrame(rows, columns=["x0", "x1", "x2"]))
    assert predicted.tolist() == expected.tolist()
    assert check_features(rows[:1], 3).shape == (1, 3)  # one row is enough to predict


def test_check_features_keeps_float32_values():
    values = check_features(X)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, X.astype(np.float32))


@pytest.mark.parametrize(("kwargs", "piece"), [
    ({"hidden": "64"}, "hidden"), ({"seed": "abc"}, "seed"), ({"seed": -5}, "seed"),
    ({"lambdas": [1e30]}, "lambdas"), ({"lambdas": [np.nan]}, "lambdas")])
def test_stability_selection_refuses_its_settings_before_training(training, kwargs, piece):
    refused(lambda: stability_selection(X, Y, n_pairs=2, epochs=1, verbose=0, **kwargs), piece)


@pytest.mark.parametrize("hidden", [4, (4,), ()])
def test_stability_selection_takes_hidden_as_fit_path_does(training, hidden):
    with pytest.raises(Trained):
        stability_selection(X, Y, hidden=hidden, n_pairs=2, epochs=1, lambdas=[0.1, 0.01], verbose=0)
