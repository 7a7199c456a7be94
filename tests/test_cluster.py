"""Preprocessing on a Dask cluster (a LocalCluster of 2 worker processes on 127.0.0.1) writes what the local run
writes."""
import os
from dataclasses import replace

import pytest

from corpus import build_corpus
from ganonlib.cli import main
from ganonlib.cluster import ClusterError, parallel_backend
from ganonlib.config import DatasetConfig
from ganonlib.data.datasets import load_dataset
from ganonlib.data.preprocess import preprocess_dataset


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_dask_cluster_preprocesses_exactly_like_the_local_processes(tmp_path, small_cfg):
    distributed = pytest.importorskip("distributed")
    root = build_corpus(tmp_path / "photos")
    records = load_dataset(DatasetConfig(name="corpus", kind="folder", root=str(root)))
    local = preprocess_dataset(records, tmp_path / "local", small_cfg, progress=False)
    saved = dict(os.environ)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as cluster:
            cfg = replace(small_cfg, scheduler=cluster.scheduler_address)
            remote = preprocess_dataset(records, tmp_path / "dask", cfg, progress=False)
            with distributed.Client(cluster) as client:
                ran_on = client.run(lambda: __import__("ganonlib.data.preprocess").data.preprocess._EXTRACTORS != {})
    finally:
        # a LocalCluster's nannies leave OMP_NUM_THREADS=1 (and MKL's, OpenBLAS's) in this process's environment:
        # every process a later test starts would then compute with one thread, the test process with two
        os.environ.clear()
        os.environ.update(saved)
    assert all(ran_on.values()) and len(ran_on) == 2  # both workers built an extractor: they did the work
    assert remote == local and local["pairs"] > 0
    assert _files(tmp_path / "dask") == _files(tmp_path / "local")  # same manifest, index, pairs, byte for byte


def test_an_unreachable_scheduler_is_one_message(tmp_path):
    with pytest.raises(ClusterError, match="dask scheduler"):
        with parallel_backend("tcp://127.0.0.1:9", 2, connect_timeout_s=2):
            pass
    code = main(["preprocess", str(tmp_path), str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
