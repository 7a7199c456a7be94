"""Per-image work on a Dask cluster (a LocalCluster of 2 worker processes on 127.0.0.1): preprocessing and
anonymizing a dataset write, and the identity, emotion and attribute evaluations report, what the local run does."""
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
from ganonlib.io import file_sha256


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


@pytest.mark.slow
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


@pytest.mark.slow
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
    assert all(("recognizer", "Dlib") in loaded for loaded in _worker_models(cluster))  # each embedded some
    assert here["n_originals"] >= 4 and here["methods"]["blur9"]["n"] == here["n_originals"]
    assert there == here
    pd.testing.assert_frame_equal(there_table, here_table)


def _worker_models(cluster) -> list[list]:
    """The keys of the models each worker of ``cluster`` holds (:func:`ganonlib.cluster.worker_model`)."""
    import distributed

    with distributed.Client(cluster) as client:
        return list(client.run(lambda: list(__import__("ganonlib.cluster").cluster._MODELS)).values())


@pytest.fixture
def many_pairs(pairs, tmp_path):
    """The 4 random pairs listed 3 times under new keys: enough for two chunks of 8 at batch size 1."""
    index = pd.read_csv(pairs / "index.csv", keep_default_na=False)
    for column in ("image", "landmarks", "points"):
        index[column] = [str(pairs / p) for p in index[column]]
    many = pd.concat([index.assign(key=index.key + f"_{n}") for n in range(3)], ignore_index=True)
    many.to_csv(tmp_path / "index.csv", index=False)
    return tmp_path


@pytest.mark.slow
def test_a_dask_cluster_anonymizes_a_dataset_exactly_like_this_process(tmp_path_factory, many_pairs,
                                                                        generator_file, cluster):
    from ganonlib.anonymize.datasets import anonymize_dataset

    out = tmp_path_factory.mktemp("anonymized")
    for method in ("ours", "blur9"):
        kwargs = {"weights": str(generator_file), "device": "cpu", "batch_size": 1, "progress": False}
        here = anonymize_dataset(method, many_pairs, out / "here" / method, **kwargs)
        there = anonymize_dataset(method, many_pairs, out / "there" / method, **kwargs,
                                  scheduler=cluster.scheduler_address)
        assert there == here and here["pairs"] == 12
        assert _files(out / "there" / method) == _files(out / "here" / method)  # index, summary, every crop
    sha = file_sha256(generator_file)
    assert all(any(k[:2] == ("generator", sha) for k in loaded) for loaded in _worker_models(cluster))


@pytest.mark.slow
def test_classifiers_on_a_dask_cluster_give_the_probabilities_of_this_process(tmp_path, many_pairs, cluster):
    import numpy as np
    import torch

    from ganonlib.io import atomic_write_torch
    from ganonlib.metrics.evaluate_emotion import reference_probabilities
    from ganonlib.metrics.training_scenario import TrainedClassifier
    from ganonlib.models.classifier import build_classifier
    from ganonlib.train.classifier import ClassifierConfig

    torch.manual_seed(0)
    model, _ = build_classifier("convnext_atto", 3, pretrained="no")
    checkpoint = atomic_write_torch(tmp_path / "best.pt", {"model": model.state_dict(), "arch": "convnext_atto",
                                                           "n_classes": 3, "epoch": 1})
    paths = pd.read_csv(many_pairs / "index.csv").image.tolist()
    cfg = ClassifierConfig(arch="convnext_atto", image_size=32, batch_size=1, device="cpu")
    here = TrainedClassifier(checkpoint, cfg, ("a", "b", "c"), "test").predict_paths(paths)
    there = TrainedClassifier(checkpoint, cfg, ("a", "b", "c"), "test",
                              scheduler=cluster.scheduler_address).predict_paths(paths)
    assert here.shape == (12, 3) and np.allclose(here.sum(axis=1), 1.0, atol=1e-5)
    # a float32 network's sums depend on how many threads share them (a worker has one): equal to rounding
    np.testing.assert_allclose(there, here, rtol=1e-6, atol=1e-6)
    sha = file_sha256(checkpoint)
    assert all(("classifier", sha) in loaded for loaded in _worker_models(cluster))  # two chunks, two workers
    np.testing.assert_array_equal(reference_probabilities(paths, scheduler=cluster.scheduler_address),
                                  reference_probabilities(paths))


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


def test_a_model_shared_by_its_caller_is_used_here_and_goes_with_the_caller():
    import gc

    from ganonlib.cluster import share_model, worker_model

    class Model:
        pass

    loads = []
    mine = Model()
    assert share_model(("test", 1), mine) is mine
    assert worker_model(("test", 1), lambda: loads.append(1) or Model()) is mine and not loads
    del mine
    gc.collect()  # held weakly: the next chunk here loads its own, which stays
    again = worker_model(("test", 1), lambda: loads.append(1) or Model())
    assert loads == [1] and worker_model(("test", 1), Model) is again


@pytest.mark.parametrize("address", ["garbage://x", "tcp://", "localhost:8786", "tcp://host :1"])
def test_a_scheduler_address_dask_cannot_use_is_refused_before_any_work(tmp_path, capsys, address):
    """One line and exit 2 before any client starts (an unknown scheme made distributed's client hang 40 s, then
    print a traceback)."""
    assert main(["preprocess", str(tmp_path), str(tmp_path / "out"), "--scheduler", address]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ganon: --scheduler: an address like tcp://host:8786") and "\n" not in err
    assert not (tmp_path / "out").exists()
