"""GAN trainer (paper 3.4): seeded, resumable, fast on a GPU and runnable on a CPU.

Speed on a GPU: one generator forward per step, bf16 autocast, channels_last, optional ``torch.compile``, fused
Adam, uint8 pairs kept in memory and normalised on the device. Several GPUs: ``gpus`` (DDP, through
``torchrun``).
A checkpoint (models, optimizers, every rank's RNG state) is written atomically every ``checkpoint_every`` epochs;
``resume`` continues from it, and a resumed run reaches the same state as an uninterrupted one (per-epoch shuffling
is seeded by the epoch).
"""
from __future__ import annotations

import csv
import math
import os
import random
import time
from dataclasses import asdict
from itertools import islice
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler
from torchvision.utils import make_grid

from ganonlib.config import GanTrainConfig
from ganonlib.data.pairs import PairDataset, from_model_range, to_model_range
from ganonlib.devices import resolve_device
from ganonlib.faces.landmarks import render_landmarks_torch
from ganonlib.io import atomic_write_csv, atomic_write_image, atomic_write_torch
from ganonlib.models.generator_file import load_checkpoint, save_generator
from ganonlib.models.networks import define_D, define_G
from ganonlib.models.pix2pix import Pix2Pix, make_optimizers
from ganonlib.progress import progress_bar
from ganonlib.train.live import TrainingLog

__all__ = ["GanTrainConfig", "TrainingDiverged", "build_models", "load_checkpoint", "train_gan", "training_step",
           "training_folder_problem", "write_sample_grid"]

CHECKPOINT = "checkpoint.pt"
LOSS_NAMES = ("g_total", "g_gan", "g_l1", "d_total")  # the order of StepLosses.stacked()
GENERATOR = "generator.pt"
# every name a training (or a published generator's conversion) writes in its folder, and all it ever deletes there
OUTPUT_NAMES = frozenset({GENERATOR, f"{GENERATOR}.sha256", CHECKPOINT, "losses.csv", "samples", "live"})
# and what else of the kit's lies there: `ganon export-onnx` writes the generator's ONNX file beside it (a training
# leaves it alone; the onnx backend refuses it once stale)
KIT_NAMES = OUTPUT_NAMES | {Path(GENERATOR).with_suffix(".onnx").name}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite: the run stops before writing weights trained on it."""


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# settings that may change between a killed run and its resumption without changing what is being trained
_RESUMABLE = {"dataset", "epochs", "device", "compile", "compile_mode", "resume", "samples", "out_dir", "data_dir",
              "max_seconds", "checkpoint_every", "num_workers", "cache_dir", "source", "published_url",
              "published_sha256", "published_dir"}


def _same_run(saved: dict, current: dict) -> bool:
    return {k: v for k, v in saved.items() if k not in _RESUMABLE} == \
        {k: v for k, v in current.items() if k not in _RESUMABLE}


def build_models(cfg: GanTrainConfig, device: torch.device
                 ) -> tuple[torch.nn.Module, torch.nn.Module, torch.optim.Adam, torch.optim.Adam]:
    """Fresh G and D (N(0, 0.02)) in the configured memory format on ``device``, with their Adam optimizers (fused
    kernels on CUDA)."""
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    g = define_G().to(device, memory_format=fmt)
    d = define_D().to(device, memory_format=fmt)
    opt_g, opt_d = make_optimizers(g, d, cfg.lr, (cfg.beta1, cfg.beta2), fused=device.type == "cuda")
    return g, d, opt_g, opt_d


def training_step(cfg: GanTrainConfig, device: torch.device, g: torch.nn.Module, d: torch.nn.Module,
                  opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, distributed: bool = False) -> Pix2Pix:
    """The trainer's step with its speed settings (DDP, torch.compile, bf16 autocast on CUDA): shared with
    ``benchmarks/speed/train_throughput.py`` so that what it measures is what trains."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick its fastest kernels
    d_for_g = None  # D itself runs inside G's loss, its weights frozen
    if distributed:
        ids = [device.index] if device.type == "cuda" else None
        d_for_g = d  # unwrapped: DDP would wait for gradients of the frozen weights
        g = torch.nn.parallel.DistributedDataParallel(g, device_ids=ids)
        d = torch.nn.parallel.DistributedDataParallel(d, device_ids=ids)
    if cfg.compile:  # static shapes: a step sees two batch sizes (B for G's loss, 2B for D's), both fixed
        g, d = (torch.compile(m, mode=cfg.compile_mode, dynamic=False) for m in (g, d))
        if d_for_g is not None:
            d_for_g = torch.compile(d_for_g, mode=cfg.compile_mode, dynamic=False)
    amp = torch.bfloat16 if cfg.bf16 and device.type == "cuda" else None
    return Pix2Pix(g, d, opt_g, opt_d, cfg.lambda_l1, amp, discriminator_for_g=d_for_g)


class _Run:
    """State of one training run on one process (rank)."""

    def __init__(self, cfg: GanTrainConfig) -> None:
        self.cfg = cfg
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
        if self.distributed:
            cuda = cfg.device != "cpu" and torch.cuda.is_available()
            dist.init_process_group("nccl" if cuda else "gloo")
            local = int(os.environ.get("LOCAL_RANK", "0"))
            if cuda:
                torch.cuda.set_device(local)
            self.device = torch.device("cuda", local) if cuda else torch.device("cpu")
        else:
            self.device = resolve_device(cfg.device)
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        # what the checkpoint records: the processes that really ran (torchrun may start them without ``gpus``)
        self.settings = {**asdict(cfg), "gpus": self.world}
        self.out = Path(cfg.out_dir)
        _seed_all(cfg.seed + self.rank)
        self.train = PairDataset(cfg.data_dir, "train", cache_dir=cfg.cache_dir or None)
        try:
            self.preview = PairDataset(cfg.data_dir, "val", limit=cfg.samples)
        except ValueError:  # no val split: show training pairs in the grids
            self.preview = PairDataset(cfg.data_dir, "train", limit=cfg.samples)
        self.size, self.style = self.train.image_size, self.train.landmarks_style
        self.g, self.d, self.opt_g, self.opt_d = build_models(cfg, self.device)
        self.start_epoch = 0
        if cfg.resume and (self.out / CHECKPOINT).is_file():
            state = load_checkpoint(self.out / CHECKPOINT, self.device)
            if not _same_run(state.get("config", {}), self.settings):
                self._say(f"{self.out / CHECKPOINT} was trained with other settings: training afresh")
            elif int(state["epoch"]) + 1 >= cfg.epochs:
                # a finished run asked to run again means its code or data changed: nothing to resume
                self._say(f"{self.out / CHECKPOINT} holds a finished run: training afresh")
            else:
                self._restore(state)
        if self.start_epoch == 0 and self.rank == 0:
            (self.out / "losses.csv").unlink(missing_ok=True)
            for old in (self.out / "samples").glob("epoch_*.png"):
                old.unlink()
        # losses per step and per epoch for `dvc plots` (first rank only: the others train the same model)
        self.log = TrainingLog(self.out / "live", resume=self.start_epoch > 0) if self.rank == 0 else None
        self.model = training_step(cfg, self.device, self.g, self.d, self.opt_g, self.opt_d, self.distributed)
        self.resident = self._resident_pairs()

    def _resident_pairs(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The whole training split on the device (on a GPU: when it takes under a quarter of the free memory):
        batches are then gathered there in the data loader's seeded order, and no CPU process feeds the GPU.
        None = the data loader (memory-mapped faces, loader processes, several GPUs)."""
        if self.distributed or self.cfg.cache_dir or self.cfg.num_workers:
            return None
        if self.device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(self.device)
            if self.train.faces.nbytes + self.train.points.nbytes > free // 4:
                return None
        return self.train.points.to(self.device), torch.from_numpy(self.train.faces).to(self.device)

    def _say(self, message: str) -> None:
        if self.rank == 0:
            print(message)

    def _restore(self, state: dict) -> None:
        self.g.load_state_dict(state["generator"])
        self.d.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        mine = state["rng"][self.rank]  # same settings, so as many ranks as when it was saved
        torch.set_rng_state(mine["cpu"].cpu())
        if self.device.type == "cuda" and "cuda" in mine:
            torch.cuda.set_rng_state(mine["cuda"].cpu(), self.device)
        self.start_epoch = int(state["epoch"]) + 1

    def _generator(self, epoch: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)

    def _batches(self, epoch: int) -> tuple[object, int]:
        """(iterable of (points, faces) batches, number of batches) for one epoch."""
        if self.resident is None:
            loader = self._loader(epoch)
            return loader, len(loader)
        points, faces = self.resident
        # RandomSampler's order for the same generator: resident and loader runs visit the pairs alike
        order = torch.randperm(len(faces), generator=self._generator(epoch)).to(self.device)
        chunks = order.split(self.cfg.batch_size)
        return ((points[i], faces[i]) for i in chunks), len(chunks)

    def _loader(self, epoch: int) -> DataLoader:
        generator = self._generator(epoch)
        if self.distributed:
            sampler = DistributedSampler(self.train, shuffle=True, seed=self.cfg.seed, drop_last=True)
            sampler.set_epoch(epoch)
        else:
            sampler = RandomSampler(self.train, generator=generator)
        # the loader's own generator seeds its workers: left to the global RNG it would shift the dropout masks,
        # and the device-resident batches (which draw nothing) would train differently
        return DataLoader(self.train, batch_size=self.cfg.batch_size, sampler=sampler, drop_last=False,
                          num_workers=self.cfg.num_workers, persistent_workers=False,
                          pin_memory=self.device.type == "cuda", generator=self._generator(epoch + 1_000_003))

    def _to_device(self, x: torch.Tensor) -> torch.Tensor:
        x = to_model_range(x.to(self.device, non_blocking=True))
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    def _marks(self, points: torch.Tensor) -> torch.Tensor:
        """(B, 478, 2) points -> (B, 1, S, S) uint8 landmark images, drawn on the device."""
        return render_landmarks_torch(points.to(self.device, non_blocking=True), self.size, self.style)

    def run_epoch(self, epoch: int, deadline: float = float("inf")) -> dict:
        self.g.train()
        self.d.train()
        totals = torch.zeros(4, device=self.device)
        steps = images = 0
        start = time.perf_counter()
        batches, count = self._batches(epoch)
        limit = min(self.cfg.max_steps_per_epoch or count, count)
        # the loop ends by itself after `limit` batches, so that the bar shows them all
        bar = progress_bar(islice(batches, limit), total=limit, desc=f"epoch {epoch + 1}/{self.cfg.epochs}",
                   disable=self.rank != 0)
        pending: list[torch.Tensor] = []  # per-step losses, logged at the next sync point
        for points, faces in bar:
            losses = self.model.step(self._to_device(self._marks(points)), self._to_device(faces))
            stacked = losses.stacked()
            totals += stacked
            pending.append(stacked)
            steps += 1
            images += len(faces)
            if steps % 20 == 0 or steps == limit:  # reading a loss syncs the GPU: only now and then
                bar.set_postfix(g=f"{float(losses.g_total):.3f}", d=f"{float(losses.d_total):.3f}")
                self._log_steps(pending)
            if steps < limit and self.out_of_time(deadline):
                break
        self._log_steps(pending)
        bar.close()
        if self.distributed:  # the loss row: mean over every rank's batches
            dist.all_reduce(totals)
            totals /= self.world
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        mean = (totals / max(steps, 1)).tolist()
        return {"epoch": epoch + 1, "steps": steps, "g_total": mean[0], "g_gan": mean[1], "g_l1": mean[2],
                "d_total": mean[3], "images_per_s": images * self.world / elapsed}

    def _log_steps(self, pending: list[torch.Tensor]) -> None:
        if not pending:
            return
        rows = torch.stack(pending).tolist()  # read at a sync point anyway: checking them costs nothing more
        pending.clear()
        for row in rows:
            bad = [f"{name} {value}" for name, value in zip(LOSS_NAMES, row) if not math.isfinite(value)]
            if bad:
                raise TrainingDiverged(
                    f"training diverged: {', '.join(bad)} (lr {self.cfg.lr}, paper 2.0e-4); stopped before any "
                    f"checkpoint or generator of this epoch was written, so {self.out / GENERATOR} is unchanged")
            if self.log is not None:
                self.log.step(dict(zip(LOSS_NAMES, row)))

    def out_of_time(self, deadline: float) -> bool:
        """Whether the time budget is spent; under DDP whether it is on any rank, so that all stop after the same
        step (a rank that stopped alone would leave the others waiting in their next gradient reduction)."""
        if deadline == float("inf"):
            return False
        spent = time.perf_counter() >= deadline
        if self.distributed:
            flag = torch.tensor([float(spent)], device=self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            spent = bool(flag.item())
        return spent

    def sample_grid(self, epoch: int) -> None:
        self.g.eval()
        write_sample_grid(self.g, self.preview, self.style, self.device,
                          self.out / "samples" / f"epoch_{epoch + 1:03d}.png", self.cfg.channels_last)

    def rng_states(self) -> list[dict[str, torch.Tensor]]:
        """Every rank's RNG state, so that each resumes its own dropout masks; under DDP a collective: every rank
        calls it."""
        mine = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            mine["cuda"] = torch.cuda.get_rng_state(self.device)
        if not self.distributed:
            return [mine]
        states: list = [None] * self.world
        dist.all_gather_object(states, mine)
        return states

    def checkpoint(self, epoch: int, rng: list[dict[str, torch.Tensor]]) -> None:
        state = {"generator": self.g.state_dict(), "discriminator": self.d.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "epoch": epoch,
                 "rng": rng, "config": self.settings}
        atomic_write_torch(self.out / CHECKPOINT, state)


@torch.inference_mode()
def write_sample_grid(generator: torch.nn.Module, pairs: PairDataset, style: str, device: torch.device,
                      path: Path, channels_last: bool = False) -> Path:
    """One row per pair: landmarks | real face | generated face, at the pairs' size (what a reader checks first)."""
    size = pairs.image_size
    marks = render_landmarks_torch(pairs.points.to(device), size, style)
    x = to_model_range(marks)
    x = x.contiguous(memory_format=torch.channels_last) if channels_last else x
    fake = from_model_range(generator(x)).cpu()
    faces = torch.from_numpy(np.asarray(pairs.faces))
    tiles = [t for i in range(len(fake)) for t in (marks[i].cpu().expand(3, -1, -1), faces[i], fake[i])]
    grid = make_grid(tiles, nrow=3, padding=0).permute(1, 2, 0).numpy()  # rows of landmarks | real | generated
    return atomic_write_image(path, grid)


def _append_loss_row(path: Path, row: dict) -> None:
    if path.is_file():
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = []
    rows = [r for r in rows if int(r["epoch"]) < row["epoch"]] + [{k: (f"{v:.6f}" if isinstance(v, float) else v)
                                                                    for k, v in row.items()}]
    atomic_write_csv(path, rows, list(row))


def training_folder_problem(out_dir: str | Path) -> str:
    """Why a training cannot write into the existing folder ``out_dir`` without costing a file of the user's, or "".

    A training writes the names of :data:`OUTPUT_NAMES` over what is there and, training afresh, deletes the
    earlier losses and sample grids (DVCLive clears its own folders), so an existing folder may hold nothing but
    :data:`KIT_NAMES` (names starting with "." aside: no file of the kit's), and none of them as a link through
    which a write would land outside it. A new folder, an empty one and an earlier training's (``models/gan/``)
    pass."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return ""
    try:
        names = sorted(entry.name for entry in os.scandir(out_dir) if not entry.name.startswith("."))
    except OSError as err:
        return f"cannot read output folder {out_dir}: {err.strerror or err}"
    if others := [name for name in names if name not in KIT_NAMES]:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        return (f"output {out_dir} already holds files a training does not write ({shown}): choose a new or empty "
                f"folder, or an earlier training's, so that no file of yours is overwritten or deleted")
    if links := [name for name in names if name in OUTPUT_NAMES and (out_dir / name).is_symlink()]:
        return (f"{out_dir / links[0]} is a link: a training's writes through it would land outside the output "
                f"folder; remove the link or choose another folder")
    return ""


def train_gan(cfg: GanTrainConfig) -> dict:
    """Train (or resume) and return a summary; writes ``losses.csv``, ``samples/``, ``checkpoint.pt`` and the final
    ``generator.pt`` (+ ``generator.pt.sha256``) to ``cfg.out_dir``. ``cfg.gpus > 1`` starts that many processes
    (``ganonlib.train.launch.train`` starts them); each of them, like any process started by ``torchrun``, trains one
    rank here."""
    if cfg.gpus > 1 and "WORLD_SIZE" not in os.environ:
        raise ValueError(f"gpus is {cfg.gpus}: start the processes with ganonlib.train.launch.train (or torchrun)")
    run = _Run(cfg)
    out = Path(cfg.out_dir)
    history = []
    deadline = time.perf_counter() + cfg.max_seconds if cfg.max_seconds else float("inf")
    for epoch in range(run.start_epoch, cfg.epochs):
        stats = run.run_epoch(epoch, deadline)
        last = epoch + 1 == cfg.epochs or run.out_of_time(deadline)
        due = last or (cfg.checkpoint_every > 0 and (epoch + 1) % cfg.checkpoint_every == 0)
        rng = run.rng_states() if due else []
        if run.rank == 0:
            # loss row and grid first: a run killed before the checkpoint redoes the epochs since the last one and
            # rewrites their rows (a rewritten row drops the rows after it)
            _append_loss_row(out / "losses.csv", stats)
            run.log.epoch(stats["epoch"], {k: stats[k] for k in LOSS_NAMES})
            # one plain line per epoch: it reaches the terminal of `dvc repro` (papermill --log-output), where a
            # notebook's progress widget does not
            run._say(f"epoch {stats['epoch']}/{cfg.epochs}: g_l1 {stats['g_l1']:.4f}, g_gan {stats['g_gan']:.4f}, "
                     f"d {stats['d_total']:.4f}, {stats['images_per_s']:.1f} pairs/s")
            if due:
                run.sample_grid(epoch)
                run.checkpoint(epoch, rng)
        history.append(stats)
        if last:  # the budget ran out: stop after the checkpoint it triggered, not one clock read later
            break
    if run.rank == 0:
        epochs = history[-1]["epoch"] if history else run.start_epoch
        save_generator(run.g.state_dict(), run.size, out / GENERATOR, run.style,
                       {"data": cfg.data_dir, "pairs": len(run.train), "epochs": int(epochs)}, run.train.alignment)
        run.log.close()
    if run.distributed:
        dist.destroy_process_group()
    return {"epochs_run": len(history), "resumed_from_epoch": run.start_epoch, "device": str(run.device),
            "processes": run.world, "train_pairs": len(run.train), "last": history[-1] if history else None}
