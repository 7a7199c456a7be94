"""What every DVC stage runs: its notebook through papermill, with papermill's own arguments
(``python -m ganonlib.stage_run notebooks/NN_x.ipynb OUT.ipynb -k python3 ...``).

papermill reports an error in a cell with two tracebacks, its own and the cell's, and the message last. An error the
kit raises for the user to mend (a setting out of range, a dataset, weights file or download that is not there,
``--strict``) is no bug: the stage then ends as ``ganon`` does, with that one message and exit code 2, and the
executed notebook (``reports/notebooks/``) keeps the cell's traceback for whoever wants it. Any other error keeps both
tracebacks. Only the exception's name crosses from the kernel, so :data:`MENDABLE` names each such class, subclasses
included (``tests/test_stage_run.py`` checks the list against the library's classes). A stage whose parameters
``params.yaml`` lacks stops the same way, before its notebook runs (:func:`missing_params`).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["MENDABLE", "main", "missing_params"]

MENDABLE = frozenset({
    "ConfigError", "DatasetError", "MissingWeightsError", "WeightsError", "DownloadError", "UnsafeCheckpointError",
    "OnnxMismatchError", "InputError", "StrictModeError", "ClusterError", "WorkerError",
})


def missing_params(stage: str, root: str | Path = ".") -> list[str]:
    """The parameters ``stage`` records (its ``params`` in ``dvc.yaml``, ``${item}`` filled in) that ``params.yaml``
    lacks. DVC reads them only once the stage has run, to write the lock, and then fails it: a params.yaml kept from
    an older kit, or copied from elsewhere, would cost the whole run. Nothing is checked outside a DVC project."""
    import yaml

    root = Path(root)
    if not (root / "dvc.yaml").is_file() or not (root / "params.yaml").is_file():
        return []
    name, _, item = stage.partition("@")
    definition = (yaml.safe_load((root / "dvc.yaml").read_text()).get("stages") or {}).get(name) or {}
    keys = [k.replace("${item}", item) for k in definition.get("do", definition).get("params") or []
            if isinstance(k, str)]
    params = yaml.safe_load((root / "params.yaml").read_text()) or {}

    def present(key: str) -> bool:
        node = params
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    return sorted(k for k in keys if "${" not in k and not present(k))


def main(argv: list[str] | None = None) -> int:
    import click
    from papermill.cli import papermill
    from papermill.exceptions import PapermillExecutionError

    args = sys.argv[1:] if argv is None else argv
    stage = os.environ.get("DVC_STAGE", "")
    if missing := stage and missing_params(stage):
        print(f"{stage}: params.yaml has no {', '.join(missing)}: settings this version of the kit records for the "
              f"stage (docs/parameters.md gives each one's default); add them, as the repository's params.yaml has "
              f"them", file=sys.stderr)
        return 2
    try:
        papermill.main(args=args, prog_name="papermill", standalone_mode=False)
    except PapermillExecutionError as err:
        if err.ename not in MENDABLE:
            raise
        where = os.environ.get("DVC_STAGE") or next((a for a in args if a.endswith(".ipynb")), "notebook")
        print(f"{where}: {err.evalue}", file=sys.stderr)
        return 2
    except click.exceptions.Exit as exit_:  # --help
        return exit_.exit_code
    except click.ClickException as err:  # a bad argument: papermill's own message
        err.show()
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
