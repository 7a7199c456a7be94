"""Per-image work on a Dask cluster (a LocalCluster of 2 worker processes on 127.0.0.1): preprocessing writes, and
the identity evaluation reports, what the local run does."""
import os
from dataclasses import replace

import pandas as pd
import pytest

from corpus import build_corpus
from ganonlib.cli import main
from ganonlib.cluster import ClusterError, map_chunks, parallel_backend
from ganonlib.config import DatasetConfig
from ganonlib.data.datasets import load_dataset
from ganonlib.data.preprocess import preprocess_dataset


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    saved = dict(os.environ)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as running:
            yield running
    finally:
        # a LocalCluster's nannies leave OMP_NUM_THREADS=1 (and MKL's, OpenBLAS's) in this process's environment:
        # every process a later test starts would then compute with one thread, the test process with two
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def processed(tmp_path_factory, small_cfg):
    """The bad-input corpus preprocessed on this machine: the records, the output folder and its summary."""
    root = tmp_path_factory.mktemp("cluster")
    records = load_dataset(DatasetConfig(name="corpus", kind="folder", root=str(build_corpus(root / "photos"))))
    return records, root / "local", preprocess_dataset(records, root / "local", small_cfg, progress=False)


def test_a_dask_cluster_preprocesses_exactly_like_the_local_processes(tmp_path, small_cfg, cluster, processed):
    import distributed

    records, local_dir, local = processed
    remote = preprocess_dataset(records, tmp_path / "dask", replace(small_cfg, scheduler=cluster.scheduler_address),
                                progress=False)
    with distributed.Client(cluster) as client:
        ran_on = client.run(lambda: __import__("ganonlib.data.preprocess").data.preprocess._EXTRACTORS != {})
    assert all(ran_on.values()) and len(ran_on) == 2  # both workers built an extractor: they did the work
    assert remote == local and local["pairs"] > 0
    assert _files(tmp_path / "dask") == _files(local_dir)  # same manifest, index, pairs, byte for byte


def test_the_identity_evaluation_on_a_dask_cluster_reports_what_the_local_run_reports(tmp_path, cluster, processed):
    import distributed

    from ganonlib.anonymize.comparison import compare_with
    from ganonlib.metrics.evaluate_identity import evaluate_identity
    from ganonlib.metrics.identity import Recognizer

    _, local_dir, _ = processed
    split = pd.read_csv(local_dir / "index.csv").split.value_counts().idxmax()
    for method in ("blur9", "pixel16"):
        compare_with(method, local_dir, tmp_path / "anonymized" / method, "", progress=False)
    args = (local_dir, tmp_path / "anonymized", ["blur9", "pixel16"], Recognizer("Dlib"))
    kwargs = {"split": split, "progress": False}
    here_table, here = evaluate_identity(*args, **kwargs)
    there_table, there = evaluate_identity(*args, **kwargs, scheduler=cluster.scheduler_address)
    with distributed.Client(cluster) as client:
        ran_on = client.run(lambda: sorted(__import__("ganonlib.metrics.evaluate_identity").metrics
                                           .evaluate_identity._RECOGNIZERS))
    assert list(ran_on.values()) == [["Dlib"], ["Dlib"]]  # each worker embedded some images
    assert here["n_originals"] >= 4 and here["methods"]["blur9"]["n"] == here["n_originals"]
    assert there == here
    pd.testing.assert_frame_equal(there_table, here_table)


def test_map_chunks_keeps_the_order_locally_and_on_worker_processes():
    items = list(range(23))
    assert map_chunks(_squares, items, chunk_size=4) == [i * i for i in items]
    assert map_chunks(_squares, items, n_jobs=2, chunk_size=4) == [i * i for i in items]


def _squares(chunk):
    return [i * i for i in chunk]


def test_an_unreachable_scheduler_is_one_message(tmp_path):
    with pytest.raises(ClusterError, match="dask scheduler"):
        with parallel_backend("tcp://127.0.0.1:9", 2, connect_timeout_s=2):
            pass
    code = main(["preprocess", str(tmp_path), str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
