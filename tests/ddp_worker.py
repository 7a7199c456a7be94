"""Run under ``torchrun --nproc_per_node 2`` by tests/test_distributed.py (CPU, gloo).

    ddp_worker.py step OUT          one DDP step of the kit's training step, each rank on its half of a fixed batch;
                                    every rank saves its weights to OUT/rank<N>.pt
    ddp_worker.py train DATA OUT    ``train_gan`` on a processed dataset (settings from the JSON in $GANON_TEST_CFG;
                                    $GANON_TEST_RANK1_CLOCK makes rank 1's clock run that many times faster)
"""
import json
import os
import sys

import torch

from ganonlib.train.gan import GanTrainConfig, train_gan


def step(out: str) -> None:
    import torch.distributed as dist

    from ganonlib.models.networks import define_D, define_G
    from ganonlib.train.gan import training_step

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    g, d = define_G(), define_D()
    g.eval()  # no dropout: the ranks and the single-process reference would draw different masks
    opt_g, opt_d = torch.optim.SGD(g.parameters(), lr=1.0), torch.optim.SGD(d.parameters(), lr=1.0)
    cfg = GanTrainConfig(data_dir="", out_dir=out, device="cpu")
    model = training_step(cfg, torch.device("cpu"), g, d, opt_g, opt_d, distributed=True)
    torch.manual_seed(1)
    landmarks = (torch.rand(2 * world, 3, 256, 256) > 0.98).float() * 2 - 1
    faces = torch.rand(2 * world, 3, 256, 256) * 2 - 1
    mine = slice(2 * rank, 2 * rank + 2)
    losses = model.step(landmarks[mine], faces[mine])
    torch.save({"generator": g.state_dict(), "discriminator": d.state_dict(), "losses": losses.stacked()},
               os.path.join(out, f"rank{rank}.pt"))
    dist.destroy_process_group()


if __name__ == "__main__":
    if sys.argv[1] == "step":
        step(sys.argv[2])
    else:
        settings = json.loads(os.environ.get("GANON_TEST_CFG", "{}"))
        if os.environ.get("GANON_TEST_RANK1_CLOCK") and os.environ["RANK"] == "1":
            import time
            import types

            from ganonlib.train import gan

            scale = float(os.environ["GANON_TEST_RANK1_CLOCK"])
            gan.time = types.SimpleNamespace(perf_counter=lambda: time.perf_counter() * scale)
        train_gan(GanTrainConfig(data_dir=sys.argv[2], out_dir=sys.argv[3], device="cpu", **settings))
