"""``PathDisplay``: a path's figure after scikit-learn's Display convention (``plot(ax=None)``)."""

from __future__ import annotations

import numpy as np

__all__ = ["PathDisplay"]


class PathDisplay:
    """The regularization path's panels, drawn on pyplot's figure or on the axes given.

    Made by :meth:`kerasnet.Path.plot` (or :meth:`from_path`), like scikit-learn's
    ``RocCurveDisplay``: the constructor holds the numbers, :meth:`plot` draws them and
    sets ``figure_`` and ``ax_``. The panels: the CV curve with +-1 SE bars and both choices;
    ``sum |W|`` and the share of exact zeros along the path; with ``feature_path``, each
    input feature's first-layer weight norm (glmnet's coefficient picture).

    Parameters
    ----------
    lambdas, cv_mean, cv_se, weight_norm : array [L]
    lambda_min, lambda_1se : float
    sparsity, n_features : array [L] or None
        Fraction of zero kernel weights; features kept (marked on the zeros' curve).
    score_name : str, default "accuracy"
    feature_path : array [L, d] or None
    feature_names : list of str or None

    Attributes
    ----------
    n_panels : int
        2, or 3 with ``feature_path``: how many Axes :meth:`plot` needs.
    figsize : tuple of float
        ``(width, height)`` in inches of the pyplot figure :meth:`plot` makes itself.
    figure_ : matplotlib.figure.Figure
        The figure drawn on (after :meth:`plot`).
    ax_ : ndarray of matplotlib.axes.Axes [n_panels]
        The panels, in the order above (after :meth:`plot`).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> display = path.plot()  # doctest: +SKIP
    >>> plt.savefig("path.png")  # doctest: +SKIP
    >>> fig, axes = plt.subplots(2, display.n_panels, figsize=(15, 8))  # doctest: +SKIP
    >>> path.plot(ax=axes[0]), other_path.plot(ax=axes[1])  # doctest: +SKIP
    """

    def __init__(self, lambdas, cv_mean, cv_se, lambda_min, lambda_1se, weight_norm, sparsity=None,
                 n_features=None, score_name="accuracy", feature_path=None, feature_names=None):
        self.lambdas, self.cv_mean, self.cv_se = lambdas, cv_mean, cv_se
        self.lambda_min, self.lambda_1se, self.weight_norm = lambda_min, lambda_1se, weight_norm
        self.sparsity, self.n_features, self.score_name = sparsity, n_features, score_name
        self.feature_path, self.feature_names = feature_path, feature_names
        self.n_panels = 2 if feature_path is None else 3
        self.figsize = (5.0 * self.n_panels, 4.0)

    @classmethod
    def from_path(cls, path, ax=None):
        """Draw a fitted :class:`kerasnet.Path` (what ``path.plot(ax)`` does); returns the display."""
        from .path import measures

        features = path.df_name_ == "features"  # a count of weights is no feature count to mark
        display = cls(path.lambdas_, path.cv_mean_, path.cv_se_, path.lambda_min_, path.lambda_1se_,
                      path.weight_norm_, path.sparsity_, path.n_features_selected_ if features else None,
                      score_name=measures.label(path.measure), feature_path=path.feature_path_,
                      feature_names=path.feature_names_)
        return display.plot(ax=ax)

    def plot(self, ax=None):
        """Draw the panels; returns the display (``figure_``, ``ax_`` set).

        Parameters
        ----------
        ax : None, matplotlib Figure or SubFigure, or ``n_panels`` Axes, default None
            None: pyplot's current figure when it is empty (so ``plt.figure(figsize=...)``
            first sizes it), else a new pyplot figure of ``figsize``; either way
            ``plt.savefig`` and ``plt.show()`` then show the path. A Figure or SubFigure:
            the panels as a row of new subplots in it (a detached ``Figure`` keeps pyplot
            out, as the command line does). A sequence or array of exactly ``n_panels``
            Axes: one panel on each, in order.

        Returns
        -------
        PathDisplay
        """
        from .plots import path_axes

        axes = self._axes(ax)
        path_axes(axes, self.lambdas, self.cv_mean, self.cv_se, self.lambda_min, self.lambda_1se,
                  self.weight_norm, self.sparsity, self.n_features, self.score_name, self.feature_path,
                  self.feature_names)
        self.ax_ = axes
        try:
            self.figure_ = axes[0].get_figure(root=True)  # a SubFigure's panels: the Figure that saves
        except TypeError:  # matplotlib < 3.10: Axes.figure is the root figure
            self.figure_ = axes[0].figure
        return self

    def _axes(self, ax):
        from matplotlib.axes import Axes
        from matplotlib.figure import FigureBase

        if ax is None:
            import matplotlib.pyplot as plt

            fig = plt.gcf() if plt.get_fignums() and not plt.gcf().axes else None
            if fig is None:
                fig = plt.figure(figsize=self.figsize, layout="constrained")
            elif fig.get_layout_engine() is None:  # the user's empty figure: panels without overlaps
                fig.set_layout_engine("constrained")
            ax = fig
        if isinstance(ax, FigureBase):
            return np.asarray(ax.subplots(1, self.n_panels), dtype=object).ravel()
        given = [ax] if isinstance(ax, Axes) else ax
        try:
            axes = np.asarray(given, dtype=object).ravel()
        except TypeError:
            axes = np.array([given], dtype=object)
        if len(axes) != self.n_panels or not all(isinstance(a, Axes) for a in axes):
            what = f"{len(axes)} Axes" if all(isinstance(a, Axes) for a in axes) else repr(ax)
            raise ValueError(
                f"ax must be None, a Figure or {self.n_panels} matplotlib Axes (this path draws "
                f"{self.n_panels} panels); received {what}. Pass e.g. ax=plt.subplots(1, {self.n_panels})[1]."
            )
        return axes
