"""Model flavors: save a model of any supported framework into a folder, with its signature, and load it back.

::

    from mltrail.sdk.flavors import load_model, save_model

    meta = save_model(clf, "model/", input_example=X_train[:20])   # skops for scikit-learn: no pickle
    model = load_model("model/", check_signature=True)             # sha256 of every file checked first
    model.predict(X_test)

Flavors: ``sklearn`` (skops, or pickle), ``xgboost`` and ``lightgbm`` (their native formats, also for
their scikit-learn-API estimators), ``onnx`` (run with onnxruntime) and ``python`` (any object with a
``predict``, pickled). Formats that execute code on load load only with ``trust=True``. Frameworks are
imported only when a model of theirs is saved or loaded. Nothing here talks to a store or a server.
"""

from mltrail.sdk.flavors.folder import load_model, save_model
from mltrail.sdk.flavors.loaded import LoadedModel
from mltrail.sdk.flavors.meta import META_FILE, FileEntry, ModelMeta
from mltrail.sdk.flavors.onnx import OnnxModel
from mltrail.sdk.flavors.signature import FieldSpec, Schema, Signature, infer_signature

__all__ = [
    "META_FILE",
    "FieldSpec",
    "FileEntry",
    "LoadedModel",
    "ModelMeta",
    "OnnxModel",
    "Schema",
    "Signature",
    "infer_signature",
    "load_model",
    "save_model",
]
