"""Where the pipeline's generator comes from (params.yaml ``gan.source``): the kit's trainer, or one of the authors'
published checkpoints, fetched from their link, a mirror or a path on this machine, verified by sha256 and converted
into the kit's generator file. Either way ``<out_dir>/generator.pt`` (+ ``.sha256``) is what every later stage reads,
``<out_dir>/samples/`` shows what it paints from the validation landmarks, and ``<out_dir>/live/`` says how it came
to be: the training's DVCLive logs, or ``published.json`` (the checkpoint, its sha256, epochs and steps).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from ganonlib.config import GanTrainConfig
from ganonlib.io import atomic_write_json, file_sha256
from ganonlib.published import PUBLISHED, DownloadError, download, verify_file
from ganonlib.weights import MissingWeightsError

__all__ = ["checkpoint_location", "provide_generator"]


def provide_generator(cfg: GanTrainConfig) -> dict:
    """Train (``source: train``) or fetch, verify and convert the published checkpoint; return the run's summary."""
    if cfg.source == "train":
        from ganonlib.train.launch import train

        (Path(cfg.out_dir) / "live" / "published.json").unlink(missing_ok=True)  # an earlier published source's
        summary = train(cfg)
        grids = sorted((Path(cfg.out_dir) / "samples").glob("epoch_*.png"))  # the last epoch's is the generator's
        return {"source": "train", **summary, "samples": str(grids[-1]) if grids else None}
    return _published_generator(cfg)


def checkpoint_location(cfg: GanTrainConfig) -> tuple[str | None, Path]:
    """(the URL to fetch it from, where it is kept): a URL and ``published_dir/<file>``, or None and the local path
    named (verified where it lies, never copied)."""
    published = PUBLISHED[cfg.source]
    source = cfg.published_url or published.url
    parsed = urlparse(source)
    if parsed.scheme in ("http", "https"):
        return source, Path(cfg.published_dir) / published.filename
    return None, Path(parsed.path if parsed.scheme == "file" else source)


def _published_generator(cfg: GanTrainConfig) -> dict:
    from ganonlib.models.convert import convert_lightning_state, read_lightning_checkpoint

    published = PUBLISHED[cfg.source]
    # a hash given in params.yaml replaces the published pair (a mirror serving another file is then that file)
    sha256 = cfg.published_sha256 or published.sha256
    size = None if cfg.published_sha256 else published.size
    url, checkpoint = checkpoint_location(cfg)
    try:
        if url is not None:
            download(url, checkpoint, size, sha256)
        elif not checkpoint.is_file():
            raise MissingWeightsError(
                f"gan.published_url: {checkpoint} does not exist: put the authors' {published.filename} there, or "
                f"set gan.published_url to its address (empty = {published.url})")
        else:
            verify_file(checkpoint, size, sha256)
    except DownloadError as err:  # the command line's way out is not the pipeline's
        raise DownloadError(str(err).replace("run again with --allow-mismatch",
                                             "set gan.published_sha256 to its sha256")) from None
    out = Path(cfg.out_dir)
    state = read_lightning_checkpoint(checkpoint)  # once: the generator and the record both come from it
    digest = convert_lightning_state(state, checkpoint, out / "generator.pt")
    record = {"source": cfg.source, "checkpoint": str(checkpoint),
              "checkpoint_sha256": sha256 or file_sha256(checkpoint),
              "sha256_published": published.sha256 is not None and not cfg.published_sha256,
              "epochs": state.get("epoch"), "global_step": state.get("global_step"), "generator_sha256": digest}
    atomic_write_json(out / "live" / "published.json", record)  # what the generator file was made from
    (out / "losses.csv").unlink(missing_ok=True)  # an earlier training's: not this generator's
    return {**record, "samples": str(_sample_grid(cfg, out / "generator.pt"))}


def _sample_grid(cfg: GanTrainConfig, generator_path: Path) -> Path:
    """What the converted generator paints from the first validation landmarks of ``gan.dataset``."""
    from ganonlib.data.pairs import PairDataset
    from ganonlib.devices import resolve_device
    from ganonlib.models.generator_file import load_generator
    from ganonlib.train.gan import write_sample_grid

    device = resolve_device(cfg.device)
    generator, settings = load_generator(generator_path, device)
    pairs = PairDataset(cfg.data_dir, "val", limit=cfg.samples)
    samples = Path(cfg.out_dir) / "samples"
    for old in samples.glob("*.png"):  # another source's grids would be taken for this generator's
        old.unlink()
    return write_sample_grid(generator, pairs, settings.landmarks_style, device, samples / f"{cfg.source}.png")
