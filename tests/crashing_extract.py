"""An extraction task that dies natively on one file (as OpenCV aborts on some inputs): imported by the worker
processes of the crash test, so it lives in a module of its own."""
import os
from pathlib import Path

from ganonlib.anonymize.photos import extract_photo


def extract_or_abort(extractor, item):
    if Path(item[0]).name == "crash.png":
        os.abort()  # SIGABRT: no Python handler runs, as with a C++ assertion
    return extract_photo(extractor, item)
