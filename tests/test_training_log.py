"""Training curves (DVCLive): one file per training set and metric, steps from 0, the same bytes on a rerun."""
from ganonlib.train.live import TrainingLog


def _run(folder):
    log = TrainingLog(folder)
    log.begin("ours")
    log.step({"train_loss": 1.0})
    log.step({"train_loss": 0.5})
    log.epoch(1, {"val_loss": 0.7})
    log.begin("blur9")
    log.step({"train_loss": 2.0})
    log.close()


def test_each_training_gets_its_own_curves_without_timestamps(tmp_path):
    _run(tmp_path / "a")
    curves = tmp_path / "a" / "step" / "plots" / "metrics"
    assert (curves / "ours" / "train_loss.tsv").read_text().splitlines() == ["step\ttrain_loss", "0\t1.0", "1\t0.5"]
    assert (curves / "blur9" / "train_loss.tsv").read_text().splitlines() == ["step\ttrain_loss", "0\t2.0"]
    epochs = tmp_path / "a" / "epoch" / "plots" / "metrics" / "ours" / "val_loss.tsv"
    assert epochs.read_text().splitlines() == ["step\tval_loss", "1\t0.7"]


def test_a_rerun_writes_the_same_bytes(tmp_path):
    _run(tmp_path / "a")
    _run(tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    _run(tmp_path / "a")  # a new log clears the old one instead of appending to it
    assert (tmp_path / "a" / "step" / "plots" / "metrics" / "ours" / "train_loss.tsv").read_text().count("\n") == 3
