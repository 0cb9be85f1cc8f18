"""scikit-learn autologging: ``mltrail.sklearn.autolog()`` and ``mltrail.sklearn.eval_set(X, y)``.

See ``mltrail.sdk.autolog.sklearn`` and docs/AUTOLOG.md.
"""

from mltrail.sdk.autolog.sklearn import autolog, eval_set

__all__ = ["autolog", "eval_set"]
