"""A typical MLflow training script, unmodified: run by the tests with MLFLOW_TRACKING_URI pointing
at ``mltrail server`` (or at a file store, for the importer). It prints what it logged as JSON on its
last line."""

import json
import sys
import tempfile
from pathlib import Path

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(7)
X = rng.normal(size=(80, 4))
y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)

mlflow.set_experiment("mlflow-demo")
with mlflow.start_run(run_name="logreg") as run:
    mlflow.log_params({"C": 0.5, "solver": "lbfgs"})
    for step in range(20):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("accuracy", 0.93)
    mlflow.set_tag("team", "fraud")
    notes = Path(tempfile.mkdtemp()) / "notes.txt"
    notes.write_text("trained on generated data\n")
    mlflow.log_artifact(str(notes))
    model = LogisticRegression(C=0.5).fit(X, y)
    mlflow.sklearn.log_model(model, name="model")

found = mlflow.search_runs(experiment_names=["mlflow-demo"], filter_string="metrics.accuracy > 0.9")
version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "fraud-clf")
client = MlflowClient()
client.set_registered_model_alias("fraud-clf", "candidate", version.version)
loaded = mlflow.sklearn.load_model("models:/fraud-clf@candidate")
same = bool((loaded.predict(X) == model.predict(X)).all())
print(
    json.dumps(
        {
            "run_id": run.info.run_id,
            "found": [str(r) for r in found["run_id"]],
            "version": str(version.version),
            "same_predictions": same,
        }
    ),
    file=sys.stdout,
)
