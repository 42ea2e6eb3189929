"""The report calls the 1se network "simpler" only when its refit keeps fewer features or more exact zeros."""

from kerasnet.runs.story import _path_story


def _metrics(features_1se, features_min, zeros_1se, zeros_min, selected="1se"):
    info = {"lambda_selected": 0.1 if selected == "1se" else 0.01, "lambda_min": 0.01, "lambda_1se": 0.1,
            "selected": selected, "measure": "deviance", "cv_mean": 0.5, "cv_se": 0.05,
            "n_features_1se": features_1se, "n_features_min": features_min,
            "sparsity_1se": zeros_1se, "sparsity_min": zeros_min}
    return {"path": info}


def _second_line(metrics):
    return _path_story(metrics)[1]


def test_fewer_features_is_simpler_and_says_the_counts():
    line = _second_line(_metrics(4, 9, 0.80, 0.40))
    assert "a simpler network (4 input features and 80.0% of its kernel weights exactly zero, against 9 " \
           "and 40.0% at lambda_min)" in line


def test_more_zeros_with_the_same_features_is_simpler():
    assert "a simpler network" in _second_line(_metrics(9, 9, 0.55, 0.40))


def test_the_same_features_and_zeros_is_not_called_simpler():
    line = _second_line(_metrics(30, 30, 0.0, 0.0))
    assert "a simpler network" not in line and "no simpler (30 input features" in line
    assert "only shrinks the weights" in line


def test_lambda_min_selected_says_what_1se_would_give():
    line = _second_line(_metrics(30, 30, 0.0, 0.0, selected="min"))
    assert line.startswith("It is the best mean CV score") and "no simpler" in line
    assert "a simpler network" in _second_line(_metrics(3, 30, 0.9, 0.0, selected="min"))
