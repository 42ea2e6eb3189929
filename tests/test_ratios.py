"""``fit_path(l1_ratio=[...])``: one path per value on the same splits, the best pair chosen."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import KFold

from kerasnet import Path, RatioPaths, fit_path
from kerasnet.errors import InputError
from kerasnet.path.ratios import check_ratios

matplotlib.use("Agg")

QUICK = dict(hidden=(4,), n_lambdas=4, epochs=3, verbose=0, baselines=False)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(120, 6, n_informative=3, random_state=0)
    return X.astype("float32"), y


@pytest.fixture(scope="module")
def paths(data):
    return fit_path(*data, l1_ratio=[0.2, 1.0], cv=3, seed=0, **QUICK)


def test_each_value_is_the_path_fit_path_gives_alone(data, paths):
    assert isinstance(paths, RatioPaths)
    assert [p.l1_ratio for p in paths.paths_] == [0.2, 1.0]
    for ratio, path in zip([0.2, 1.0], paths.paths_, strict=True):
        alone = fit_path(*data, l1_ratio=ratio, cv=3, seed=0, **QUICK)
        np.testing.assert_array_equal(path.lambdas_, alone.lambdas_)
        np.testing.assert_array_equal(path.cv_mean_, alone.cv_mean_)
        np.testing.assert_array_equal(path.predict(data[0][:5]), alone.predict(data[0][:5]))


def test_the_best_pair_over_every_path_is_chosen(data, paths):
    best = [p.cv_mean_[p.index_min_] for p in paths.paths_]
    assert paths.index_ == int(np.argmin(best))  # deviance: lower is better
    chosen = paths.paths_[paths.index_]
    assert paths.best_ is chosen and paths.l1_ratio_ == [0.2, 1.0][paths.index_]
    # The minimum over all (l1_ratio, strength) pairs, and glmnet's 1se rule at that value.
    everything = np.concatenate([p.cv_mean_ for p in paths.paths_])
    assert chosen.cv_mean_[chosen.index_min_] == np.nanmin(everything)
    assert (paths.lambda_min_, paths.lambda_1se_) == (chosen.lambda_min_, chosen.lambda_1se_)
    np.testing.assert_array_equal(paths.predict(data[0][:7]), chosen.predict(data[0][:7], "1se"))
    assert paths.model("min").count_params() == chosen.model("min").count_params()


def test_a_measure_where_more_is_better_picks_the_largest(data):
    paths = fit_path(*data, l1_ratio=[0.5, 1.0], cv=3, seed=1, measure="auc", **QUICK)
    best = [p.cv_mean_[p.index_min_] for p in paths.paths_]
    assert paths.greater_is_better and paths.index_ == int(np.argmax(best))


def test_every_value_uses_the_same_splits_without_a_seed_or_with_an_unseeded_splitter(data):
    for cv in (3, KFold(3, shuffle=True)):  # neither fixes the folds by itself
        paths = fit_path(*data, l1_ratio=[0.1, 0.6, 1.0], cv=cv, **QUICK)
        first_train, first_test = paths.paths_[0].cv_rows_
        assert first_test.sum(axis=0).max() == 1 and first_test.any(axis=0).all()
        for other in paths.paths_[1:]:
            np.testing.assert_array_equal(other.cv_rows_[0], first_train)
            np.testing.assert_array_equal(other.cv_rows_[1], first_test)


def test_tables_and_plot_cover_every_value(paths):
    table = paths.summary()
    assert list(table["l1_ratio"]) == [0.2, 1.0] and (table["chosen"] == "best").sum() == 1
    assert table["chosen"].iloc[paths.index_] == "best"
    frame = paths.to_frame()
    assert len(frame) == sum(len(p.lambdas_) for p in paths.paths_)
    assert frame.columns[0] == "l1_ratio" and set(frame["l1_ratio"]) == {0.2, 1.0}
    ax = paths.plot()
    labels = ax.get_legend_handles_labels()[1]
    assert sorted(labels) == sorted(["l1_ratio 0.2", "l1_ratio 1", f"best: l1_ratio {paths.l1_ratio_:g}"])
    text = str(paths)
    assert "l1_ratio 0.2, 1" in text and "optimistic" in text
    assert repr(paths).startswith("RatioPaths(l1_ratios_=[0.2, 1.0]")


def test_the_comparison_says_which_values_the_folds_tell_apart(paths):
    best = paths.best_
    mean, se = best.cv_mean_[best.index_min_], best.cv_se_[best.index_min_]
    other = paths.paths_[1 - paths.index_]
    gap = other.cv_mean_[other.index_min_] - mean  # deviance: the other's is larger
    text = paths.comparison_text()
    assert f"l1_ratio {paths.l1_ratio_:g}" in text
    assert ("do not tell these apart" in text) == (gap <= se)
    assert ("beats every other value" in text) == (gap > se)


def test_progress_names_each_value(data, capsys):
    fit_path(*data, l1_ratio=[0.3, 0.9], cv=3, seed=0, **{**QUICK, "verbose": 1})
    err = capsys.readouterr().err
    assert "l1_ratio 0.3 (1 of 2)" in err and "l1_ratio 0.9 (2 of 2)" in err
    assert err.index("l1_ratio 0.9 (2 of 2)") > err.index("CV")  # before the second value's own lines


def test_one_value_in_a_list_is_a_plain_path(data):
    path = fit_path(*data, l1_ratio=[0.7], cv=3, seed=0, **QUICK)
    assert isinstance(path, Path) and path.l1_ratio == 0.7
    assert path.cv_rows_[0].shape == (3, len(data[1]))


@pytest.mark.parametrize("bad, words", [([], "empty"), ([0.5, 2.0], "in [0, 1]"),
                                        ([0.5, float("nan")], "in [0, 1]"), ([0.5, 0.5], "repeated"),
                                        ([0.5, "a"], "a number in [0, 1]")])
def test_bad_ratio_lists_get_one_line(bad, words):
    with pytest.raises(InputError, match=words.replace("[", r"\[").replace("]", r"\]")):
        check_ratios(bad)


def test_one_number_is_left_to_the_single_value_check():
    assert check_ratios(0.5) is None and check_ratios(np.float32(1.0)) is None
    assert check_ratios(np.array([0.1, 0.9])) == (0.1, 0.9)


def test_the_command_line_saves_the_best_value_and_every_values_table(tmp_path):
    from click.testing import CliRunner

    from kerasnet.cli import cli

    out = tmp_path / "run"
    args = ["path", "--dataset", "breast_cancer", "--l1-ratio", "0.5,1", "--n-lambdas", "4", "--epochs", "3",
            "--cv", "3", "--hidden", "4", "--seed", "0", "--quiet", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "kerasnet path over l1_ratio" in result.output and "the best of 0.5, 1" in result.output
    import json

    import pandas as pd

    ratios = pd.read_csv(out / "ratios.csv")
    assert list(ratios["l1_ratio"]) == [0.5, 1.0] and (ratios["chosen"] == "best").sum() == 1
    chosen = float(ratios.loc[ratios["chosen"] == "best", "l1_ratio"].iloc[0])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["path"]["l1_ratio"] == chosen and metrics["path"]["l1_ratios"] == [0.5, 1.0]
    assert metrics["settings"]["l1_ratio"] == [0.5, 1.0]
    assert set(pd.read_csv(out / "ratio_paths.csv")["l1_ratio"]) == {0.5, 1.0}
    # The saved path is the chosen value's: its strengths' l1 share is that value.
    saved = pd.read_csv(out / "path.csv")
    np.testing.assert_allclose(saved["l1"], saved["lambda"] * chosen, rtol=1e-6)
    report = (out / "report.html").read_text()
    assert "l1_ratio values" in report and "optimistic" in report and (out / "ratios.png").exists()


@pytest.mark.parametrize("value, words", [("0.5,2", "not in [0, 1]"), ("0.5,x", "not a number"),
                                          ("1,1", "repeats a value"), ("0.5,inf", "not a finite number")])
def test_the_command_line_refuses_bad_ratio_lists_in_one_line(value, words, tmp_path):
    from click.testing import CliRunner

    from kerasnet.cli import cli

    result = CliRunner().invoke(cli, ["path", "--dataset", "breast_cancer", "--l1-ratio", value,
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and words in result.output and not (tmp_path / "run").exists()


def test_feature_selection_takes_one_value(data):
    with pytest.raises(InputError, match="one value"):
        fit_path(*data, l1_ratio=[0.5, 1.0], feature_selection=True, **QUICK)


def test_the_cv_estimator_takes_a_list_as_elasticnetcv_does(data):
    from kerasnet.sklearn import ElasticNetMLPClassifierCV

    est = ElasticNetMLPClassifierCV(hidden_layer_sizes=(4,), l1_ratio=[0.2, 1.0], n_lambdas=4, max_iter=3,
                                    cv=3, random_state=0).fit(*data)
    assert est.paths_ is not None and est.path_ is est.paths_.best_
    assert est.l1_ratio_ == est.paths_.l1_ratio_
    assert est.lambda_ == est.path_.lambdas_[est.path_.index(est.selection)]
    assert est.predict_proba(data[0][:4]).shape == (4, 2)
    single = ElasticNetMLPClassifierCV(hidden_layer_sizes=(4,), l1_ratio=0.2, n_lambdas=4, max_iter=3, cv=3,
                                       random_state=0).fit(*data)
    assert single.paths_ is None and single.l1_ratio_ == 0.2


def _fake(mean, se):
    from types import SimpleNamespace

    return SimpleNamespace(cv_mean_=np.array([mean + 1.0, mean]), cv_se_=np.array([se, se]), index_min_=1,
                           index_1se_=0, lambda_min_=0.1, lambda_1se_=1.0, measure="deviance",
                           greater_is_better=False, task="binary")


def test_the_comparison_on_known_numbers():
    close = RatioPaths([0.1, 0.5, 1.0], [_fake(1.00, 0.05), _fake(0.98, 0.05), _fake(1.20, 0.05)])
    assert close.index_ == 1 and close.l1_ratio_ == 0.5
    assert close.comparison_text() == ("l1_ratio 0.5 (CV deviance 0.98 +- 0.05) is within one standard error "
                                       "of l1_ratio 0.1: the folds do not tell these apart; it beats 1 by "
                                       "more than one.")
    apart = RatioPaths([0.1, 1.0], [_fake(1.00, 0.01), _fake(0.90, 0.01)])
    assert apart.comparison_text() == ("l1_ratio 1 (CV deviance 0.9 +- 0.01) beats every other value by more "
                                       "than one standard error.")
