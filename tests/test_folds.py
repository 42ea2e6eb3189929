"""The CV splits and row weights of the path (``kerasnet.path.folds``), checked on data made here.

Each property is checked from the outside: which rows each test fold holds (counted in the test),
the splits scikit-learn's documented splitter gives for the same seed, and by-hand formulas for the
weights and the refit's epochs.
"""

import math

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, KFold, PredefinedSplit, StratifiedGroupKFold, StratifiedKFold

from kerasnet.errors import InputError
from kerasnet.path.folds import check_fold_count, normalized_weights, refit_epochs_for, splits

N = 60


def _classes(task):
    """Sorted labels with unequal classes (30/18/12 or 40/20): stratification is visible."""
    if task == "multiclass":
        return np.repeat([0, 1, 2], [30, 18, 12])
    return np.repeat([0, 1], [40, 20])


def _fold_of(test):
    """The test fold of every row (-1: in none), checking no row is in two."""
    assert (test.sum(axis=0) <= 1).all(), "a row is in two test folds"
    fold = np.full(test.shape[1], -1)
    for f, rows in enumerate(test):
        fold[rows] = f
    return fold


def _as_masks(pairs, n):
    """scikit-learn's (train, test) index pairs as boolean masks, for comparison."""
    train = np.zeros((len(pairs), n), bool)
    test = np.zeros((len(pairs), n), bool)
    for f, (tr, te) in enumerate(pairs):
        train[f, tr], test[f, te] = True, True
    return train, test


# --------------------------------------------------------------------------- an int cv


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_every_row_is_in_exactly_one_test_fold_and_trains_in_the_others(task):
    y = _classes(task) if task != "regression" else np.arange(N, dtype=float)
    train, test = splits(5, y, task, seed=3)
    assert train.shape == test.shape == (5, N)
    np.testing.assert_array_equal(test.sum(axis=0), np.ones(N))  # each row tested once
    np.testing.assert_array_equal(train, ~test)  # and trained on in every other fold


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_int_folds_are_stratified(task, seed):
    # Every test fold holds n_c / k of each class, to within one row (as StratifiedKFold).
    y = _classes(task)
    k = 5
    _, test = splits(k, y, task, seed=seed)
    for c in np.unique(y):
        share = (y == c).sum() / k
        counts = np.array([(y[rows] == c).sum() for rows in test])
        assert (np.abs(counts - share) < 1).all(), (c, counts, share)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_int_folds_are_shuffled_by_the_seed(task):
    # Sorted rows: unshuffled folds would be contiguous blocks (within each class for classes).
    y = _classes(task) if task != "regression" else np.arange(N, dtype=float)
    folds = {seed: _fold_of(splits(4, y, task, seed=seed)[1]) for seed in (0, 1, 2)}
    np.testing.assert_array_equal(_fold_of(splits(4, y, task, seed=1)[1]), folds[1])  # reproducible
    assert not np.array_equal(folds[0], folds[1]) and not np.array_equal(folds[1], folds[2])
    for fold in folds.values():
        for c in np.unique(y) if task != "regression" else [None]:
            within = fold if c is None else fold[y == c]
            assert (np.diff(within) < 0).any(), "folds are contiguous blocks: not shuffled"


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_int_folds_are_the_seeded_scikit_learn_splitter(task):
    # The docstring's promise: StratifiedKFold / KFold with shuffle=True, random_state=seed.
    y = _classes(task) if task != "regression" else np.arange(N, dtype=float)
    kind = KFold if task == "regression" else StratifiedKFold
    expected = _as_masks(list(kind(3, shuffle=True, random_state=7).split(np.zeros((N, 1)), y)), N)
    got = splits(3, y, task, seed=7)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def _grouped_rows(task, seed=0):
    """15 groups of 4 rows, scattered over the rows; labels constant within a group (as a patient)."""
    rng = np.random.default_rng(seed)
    groups = rng.permutation(np.repeat(np.arange(15), 4))
    per_group = {"binary": np.arange(15) % 2, "multiclass": np.arange(15) % 3,
                 "regression": rng.normal(size=15)}[task]
    return per_group[groups], groups


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_int_cv_with_groups_keeps_each_group_in_one_test_fold(task):
    y, groups = _grouped_rows(task)
    train, test = splits(3, y, task, seed=0, groups=groups)
    assert test.shape == (3, N)
    fold = _fold_of(test)
    assert (fold >= 0).all()
    for g in np.unique(groups):
        assert len(np.unique(fold[groups == g])) == 1, f"group {g} is in two test folds"
    np.testing.assert_array_equal(train, ~test)  # a group's rows never train the fold that tests them


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_int_cv_with_groups_is_the_group_splitter(task):
    # StratifiedGroupKFold(shuffle=True, random_state=seed) for classes, GroupKFold for values.
    y, groups = _grouped_rows(task)
    X = np.zeros((N, 1))
    for seed in (0, 5):
        if task == "regression":
            pairs = list(GroupKFold(3).split(X, y, groups))
        else:
            pairs = list(StratifiedGroupKFold(3, shuffle=True, random_state=seed).split(X, y, groups))
        expected = _as_masks(pairs, N)
        got = splits(3, y, task, seed=seed, groups=groups)
        np.testing.assert_array_equal(got[1], expected[1])
        np.testing.assert_array_equal(got[0], expected[0])


def test_int_cv_with_groups_is_shuffled_by_the_seed():
    y, groups = _grouped_rows("binary")
    folds = [_fold_of(splits(3, y, "binary", seed=s, groups=groups)[1]) for s in range(4)]
    np.testing.assert_array_equal(_fold_of(splits(3, y, "binary", seed=2, groups=groups)[1]), folds[2])
    assert len({tuple(f) for f in folds}) > 1


def test_groups_are_read_as_a_column():
    y, groups = _grouped_rows("regression")
    np.testing.assert_array_equal(splits(3, y, "regression", 0, groups=groups[:, None])[1],
                                  splits(3, y, "regression", 0, groups=groups)[1])


def test_a_fold_count_equal_to_the_smallest_class_is_accepted():
    y = _classes("multiclass")  # smallest class: 12 rows of class 2
    train, test = splits(12, y, "multiclass", seed=0)
    assert test.shape == (12, N)
    assert all((y[rows] == 2).sum() == 1 for rows in test)  # one row of class 2 in each fold
    with pytest.raises(InputError, match=r"class '2' has only 12 rows, fewer than cv=13 folds"):
        splits(13, y, "multiclass", seed=0)


def test_a_fold_count_equal_to_the_rows_is_accepted():
    y = np.arange(10, dtype=float)
    _, test = splits(10, y, "regression", seed=0)  # leave one out
    np.testing.assert_array_equal(test.sum(axis=1), np.ones(10))
    message = r"^cv=11 folds need at least 11 rows, but there are 10; give cv <= 10\.$"
    with pytest.raises(InputError, match=message):
        splits(11, y, "regression", seed=0)


@pytest.mark.parametrize("cv", [2, np.int64(3), np.int32(4)])
def test_any_integer_of_two_or_more_is_a_fold_count(cv):
    assert splits(cv, _classes("binary"), "binary", seed=0)[1].shape == (int(cv), N)


@pytest.mark.parametrize("cv, match", [
    (1, r"cv must be an integer >= 2; received cv=1\."),
    (0, r"cv must be an integer >= 2; received cv=0\."),
    (-3, r"cv must be an integer >= 2; received cv=-3\."),
    (True, r"received cv=True\."),
    (2.0, r"an iterable of \(train, test\) pairs; received cv=2\.0\."),
    (None, r"received cv=None\."),
    ("5", r"received the string cv='5'; give the number cv=5\."),
    (b"4", r"received the string cv=b'4'; give the number cv=4\."),
    ("1", r"received the string cv='1'; give an int >= 2 \(e\.g\. cv=5\)\."),
    ("2", r"received the string cv='2'; give the number cv=2\."),
    (b"\xff", r"received the string cv=b'\\xff'; give an int >= 2"),  # not UTF-8 text
    ("five", r"received the string cv='five'; give an int >= 2"),
    ([3, 4], r"^cv split 0 is 3, not a \(train, test\) pair of row indices; give cv as an iterable of such "
             r"pairs\.$"),
])
def test_a_bad_cv_is_refused_naming_it(cv, match):
    with pytest.raises(ValueError, match=match):
        splits(cv, _classes("binary"), "binary", seed=0)


# --------------------------------------------------------------------------- check_fold_count


def test_check_fold_count_names_the_short_class():
    y = np.array(["a"] * 6 + ["b"] * 2 + ["c"] * 5)
    check_fold_count(2, y, "multiclass")  # every class fills 2 folds
    with pytest.raises(InputError, match=r"^class 'b' has only 2 rows, fewer than cv=3 folds \(every fold "
                                         r"needs each class\); give cv <= 2, or add rows of that class\.$"):
        check_fold_count(3, y, "multiclass")
    with pytest.raises(InputError, match=r"^class 'b' has only 2 rows, fewer than cv=6 folds \(2 classes "
                                         r"have fewer than 6\) \(every fold"):
        check_fold_count(6, y, "multiclass")


def test_check_fold_count_a_class_of_one_row_cannot_be_cross_validated():
    y = np.array([0] * 8 + [1])
    with pytest.raises(InputError, match=r"^class '1' has only 1 row, fewer than cv=2 folds \(every fold "
                                         r"needs each class\); add rows of that class or leave its rows out "
                                         r"\(a class needs 2 rows to be cross-validated\)\.$"):
        check_fold_count(2, y, "binary")


def test_check_fold_count_counts_rows_not_classes_for_values():
    y = np.array([0.0] * 8 + [1.0])  # a rare value is not a class
    check_fold_count(9, y, "regression")
    check_fold_count(9, y, "poisson")
    with pytest.raises(InputError, match="cv=10 folds need at least 10 rows"):
        check_fold_count(10, y, "regression")


def test_check_fold_count_compares_mixed_labels_as_text():
    y = np.array([1, "a", 1, "a", 1, "a", 1], dtype=object)  # np.unique cannot sort int with str
    check_fold_count(3, y, "binary")
    with pytest.raises(InputError, match="class 'a' has only 3 rows, fewer than cv=4"):
        check_fold_count(4, y, "binary")


# --------------------------------------------------------------------------- foldid


def test_foldid_gives_one_split_per_value_with_its_rows_as_test_rows():
    foldid = np.array([7, 3, 3, 9, 7, 7, 9, 3, 3, 9])
    y = np.arange(10, dtype=float)
    train, test = splits(2, y, "regression", seed=0, foldid=foldid)  # foldid wins over cv=2
    assert test.shape == (3, 10)
    for f, v in enumerate([3, 7, 9]):  # the values, sorted
        np.testing.assert_array_equal(test[f], foldid == v)
        np.testing.assert_array_equal(train[f], foldid != v)
    np.testing.assert_array_equal(splits(5, y, "regression", 0, foldid=foldid[:, None])[1], test)


def test_foldid_equals_predefined_split():
    foldid = np.random.default_rng(2).integers(0, 4, 40)
    y = np.arange(40) % 2
    expected = _as_masks(list(PredefinedSplit(foldid).split()), 40)
    got = splits(5, y, "binary", seed=0, foldid=foldid)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_foldid_and_groups_of_the_wrong_length_are_refused():
    y = np.arange(10, dtype=float)
    with pytest.raises(ValueError, match=r"^foldid must have one entry per row \(10\); received 9\.$"):
        splits(5, y, "regression", 0, foldid=np.arange(9) % 3)
    with pytest.raises(ValueError, match=r"^groups must have one entry per row \(10\); received 11\.$"):
        splits(3, y, "regression", 0, groups=np.arange(11))


def test_two_foldid_values_are_two_splits():
    foldid = np.array([1, 0, 1, 1, 0])
    train, test = splits(5, np.arange(5.0), "regression", 0, foldid=foldid)
    np.testing.assert_array_equal(test, [foldid == 0, foldid == 1])
    np.testing.assert_array_equal(train, [foldid != 0, foldid != 1])


def test_a_single_foldid_value_is_refused():
    with pytest.raises(ValueError, match=r"^foldid has 1 distinct value; it needs at least 2 \(each fold"):
        splits(5, np.arange(6, dtype=float), "regression", 0, foldid=np.zeros(6, int))
    with pytest.raises(ValueError, match=r"^foldid has 0 distinct values; it needs at least 2"):
        splits(5, np.zeros(0), "regression", 0, foldid=np.zeros(0, int))


# --------------------------------------------------------------------------- splitters and pairs


class _Splitter:
    """A user's splitter: yields the pairs it was given, and records what it was called with."""

    def __init__(self, pairs):
        self.pairs, self.calls = pairs, []

    def split(self, X, y=None, groups=None):
        self.calls.append((np.shape(X), None if y is None else np.asarray(y).copy(), groups))
        yield from self.pairs


def test_a_splitters_rows_are_used_exactly_and_rows_in_neither_stay_out():
    # A purged split: rows 4-5 are in neither set of split 0.
    pairs = [([6, 7, 8, 9], [0, 1, 2, 3]), ([0, 1, 2, 3], [6, 7, 8, 9, 4])]
    y = np.arange(10) % 2
    groups = np.arange(10) // 2
    splitter = _Splitter(pairs)
    train, test = splits(splitter, y, "binary", seed=0, groups=groups)
    expected = _as_masks(pairs, 10)
    np.testing.assert_array_equal(train, expected[0])
    np.testing.assert_array_equal(test, expected[1])
    (shape, y_seen, groups_seen), = splitter.calls
    assert shape[0] == 10
    np.testing.assert_array_equal(y_seen, y)  # stratifying splitters need y
    np.testing.assert_array_equal(groups_seen, groups)  # group splitters need groups
    # The same pairs as a plain iterable (and as a generator).
    for cv in (pairs, iter(pairs)):
        got = splits(cv, y, "binary", seed=0)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


def test_scikit_learn_splitters_get_y_and_groups():
    y, groups = _grouped_rows("binary")
    X = np.zeros((N, 1))
    cv = StratifiedKFold(3, shuffle=True, random_state=1)
    expected = _as_masks(list(cv.split(X, y)), N)
    np.testing.assert_array_equal(splits(cv, y, "binary", seed=0)[1], expected[1])
    cv = GroupKFold(4)
    expected = _as_masks(list(cv.split(X, y, groups)), N)
    np.testing.assert_array_equal(splits(cv, y, "binary", seed=0, groups=groups)[1], expected[1])


@pytest.mark.parametrize("pairs, match", [
    ([([0, 1, 2, 3, 4], [4, 5]), ([5, 6], [0, 1])],
     r"^cv split 0 has rows both in its training and its test set; they must be disjoint\.$"),
    ([([0, 1], [2, 3]), ([], [0, 1, 2])], r"^cv split 1 has no training rows; every split needs both\.$"),
    ([([0, 1], [2, 3]), ([0, 1, 2], [])], r"^cv split 1 has no test rows; every split needs both\.$"),
    ([([0, 1, 2], [3, 4, 5])], r"^cv gave 1 split; the path needs at least 2 \(each fold's epoch is chosen "
                               r"on the other folds\)\.$"),
    ([], r"^cv gave 0 split; the path needs at least 2"),
])
def test_bad_user_splits_are_refused(pairs, match):
    y = np.arange(8) % 2
    with pytest.raises(ValueError, match=match):
        splits(pairs, y, "binary", seed=0)
    with pytest.raises(ValueError, match=match):
        splits(_Splitter(pairs), y, "binary", seed=0)


def test_two_user_splits_are_enough():
    train, test = splits([([0, 1, 2], [3, 4]), ([3, 4], [0, 1])], np.arange(5.0), "regression", 0)
    assert train.shape == test.shape == (2, 5)


# --------------------------------------------------------------------------- weights


def test_no_weights_are_ones():
    w = normalized_weights(None, 4)
    assert w.dtype == np.float64
    np.testing.assert_array_equal(w, [1.0, 1.0, 1.0, 1.0])


def test_weights_are_scaled_to_sum_to_the_rows():
    raw = [0.5, 0.0, 1.5, 2.0]  # a zero weight is allowed (the row is left out)
    w = normalized_weights(raw, 4)
    np.testing.assert_allclose(w, [0.5, 0.0, 1.5, 2.0])  # by hand: 4 / (0.5 + 1.5 + 2) = 1
    np.testing.assert_allclose(normalized_weights([1, 2, 3, 2], 4), [0.5, 1.0, 1.5, 1.0])  # 4 / 8
    tiny = normalized_weights(np.array([[0.1], [0.2], [0.3]]), 3)  # a column, summing below 1
    np.testing.assert_allclose(tiny, [0.5, 1.0, 1.5])  # 3 / 0.6 = 5
    # An object column (a mixed frame's values) is read as numbers.
    np.testing.assert_allclose(normalized_weights(np.array([2, 6], dtype=object), 2), [0.5, 1.5])


@pytest.mark.parametrize("weight, match", [
    ([1.0, np.nan, 1.0], r"^sample_weight must be finite, >= 0 and not all 0\.$"),
    ([1.0, np.inf, 1.0], "must be finite"),
    ([1.0, -0.5, 2.0], "must be finite, >= 0"),
    ([0.0, 0.0, 0.0], "not all 0"),
    ([1.0, 1.0], r"^sample_weight must have one entry per row \(3\); received 2\.$"),
])
def test_bad_weights_are_refused(weight, match):
    with pytest.raises(ValueError, match=match):
        normalized_weights(weight, 3)


# --------------------------------------------------------------------------- refit epochs


def _refit_by_hand(chosen, fold_rows, batch, n):
    """Epochs on n rows with as many optimizer steps as `chosen` epochs on the folds' rows."""
    fold_steps = sum(math.ceil(r / batch) for r in fold_rows) / len(fold_rows)
    all_steps = math.ceil(n / batch)
    return [max(1, round(c * fold_steps / all_steps)) for c in chosen]


@pytest.mark.parametrize("fold_rows, batch, n", [
    ([70, 65, 66], 16, 100),   # steps 5, 5, 5 per fold epoch; 7 on all rows
    ([7, 9, 8], 4, 12),        # steps 2, 3, 2 (mean 7/3); 3 on all rows
    ([30, 30], 64, 45),        # one batch either way
])
def test_refit_epochs_keep_the_folds_steps(fold_rows, batch, n):
    chosen = np.array([0, 1, 2, 3, 10, 25, 40])
    train = np.zeros((len(fold_rows), max(fold_rows) + 5), bool)
    for f, r in enumerate(fold_rows):
        train[f, np.random.default_rng(f).choice(train.shape[1], r, replace=False)] = True
    got = refit_epochs_for(chosen, train, batch, n)
    assert got.dtype.kind == "i"
    np.testing.assert_array_equal(got, _refit_by_hand(chosen, fold_rows, batch, n))


def test_refit_epochs_by_hand_numbers():
    # Folds of 70, 65, 66 rows, batch 16: 5 steps an epoch; all 100 rows: 7 steps an epoch.
    train = np.zeros((3, 100), bool)
    train[0, :70], train[1, :65], train[2, :66] = True, True, True
    # 10 * 5 / 7 = 7.14 -> 7; 3 * 5 / 7 = 2.14 -> 2; 1 * 5 / 7 = 0.71 -> 1; 0 -> at least 1.
    np.testing.assert_array_equal(refit_epochs_for([10, 3, 1, 0], train, 16, 100), [7, 2, 1, 1])


def test_check_fold_count_names_the_smallest_of_equally_short_classes():
    # Classes 10 and 2 both have 2 rows: the message names the smaller label, 2 (numbers are
    # compared as numbers, not as text, where "10" < "2").
    y = np.array([10, 10, 2, 2, 5, 5, 5, 5, 5, 5])
    with pytest.raises(InputError, match=r"^class '2' has only 2 rows, fewer than cv=3 folds \(2 classes"):
        check_fold_count(3, y, "multiclass")


def test_user_pairs_refuse_negative_and_out_of_range_indices():
    # numpy would wrap -1 around to the last row: a silently different split.
    y = np.arange(6.0)
    for bad in ([0, 1, -1], [0, 1, 6], [0.5, 1]):
        with pytest.raises(ValueError, match=r"cv split 0's training rows must be row indices in \[0, 5\]"):
            splits([(bad, [3, 4]), ([3, 4], [0, 1])], y, "regression", 0)


def test_user_pairs_as_boolean_masks_are_the_rows_they_mark():
    y = np.arange(6.0)
    m = np.array([1, 1, 1, 0, 0, 0], bool)
    train, test = splits([(m, ~m), (~m, m)], y, "regression", 0)
    np.testing.assert_array_equal(test, np.stack([~m, m]))  # not rows 0 and 1 (the masks as indices)
    np.testing.assert_array_equal(train, np.stack([m, ~m]))
    with pytest.raises(ValueError, match=r"boolean mask of shape \(3,\)"):
        splits([(m[:3], [3, 4]), ([3, 4], [0, 1])], y, "regression", 0)
