"""What every DVC stage runs: its notebook through papermill, with papermill's own arguments
(``python -m ganonlib.stage_run notebooks/NN_x.ipynb OUT.ipynb -k python3 ...``).

papermill reports an error in a cell with two tracebacks, its own and the cell's, and the message last. An error the
kit raises for the user to mend (a setting out of range, a dataset, weights file or download that is not there,
``--strict``) is no bug: the stage then ends as ``ganon`` does, with that one message and exit code 2, and the
executed notebook (``reports/notebooks/``) keeps the cell's traceback for whoever wants it. Any other error keeps both
tracebacks. Only the exception's name crosses from the kernel, so :data:`MENDABLE` names each such class, subclasses
included (``tests/test_stage_run.py`` checks the list against the library's classes).
"""
from __future__ import annotations

import os
import sys

__all__ = ["MENDABLE", "main"]

MENDABLE = frozenset({
    "ConfigError", "DatasetError", "MissingWeightsError", "WeightsError", "DownloadError", "UnsafeCheckpointError",
    "OnnxMismatchError", "InputError", "StrictModeError", "ClusterError", "WorkerError",
})


def main(argv: list[str] | None = None) -> int:
    import click
    from papermill.cli import papermill
    from papermill.exceptions import PapermillExecutionError

    args = sys.argv[1:] if argv is None else argv
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
