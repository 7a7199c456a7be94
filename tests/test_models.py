import torch

from ganonlib.models.networks import define_D, define_G
from ganonlib.models.pix2pix import Pix2Pix, make_optimizers


def test_generator_has_the_original_parameter_count():
    assert sum(p.numel() for p in define_G().parameters()) == 54_404_099


def test_shapes_at_256_and_discriminator_map_at_512():
    g, d = define_G().eval(), define_D().eval()
    with torch.inference_mode():
        x = torch.zeros(1, 3, 256, 256)
        y = g(x)
        assert y.shape == (1, 3, 256, 256) and y.abs().max() <= 1.0
        big = torch.zeros(1, 3, 512, 512)
        assert d(big, big).shape == (1, 1, 32, 32)  # H / 16


def test_weights_init_is_normal_002():
    w = torch.cat([m.weight.detach().flatten() for m in define_G().modules() if isinstance(m, torch.nn.Conv2d)])
    assert abs(float(w.mean())) < 1e-3 and abs(float(w.std()) - 0.02) < 1e-3


def test_training_steps_lower_the_loss_on_a_tiny_batch():
    torch.manual_seed(0)
    g, d = define_G(), define_D()
    model = Pix2Pix(g, d, *make_optimizers(g, d))
    landmarks = (torch.rand(2, 3, 256, 256) > 0.98).float() * 2 - 1
    faces = torch.rand(2, 3, 256, 256) * 2 - 1
    first = model.step(landmarks, faces)
    for _ in range(3):
        last = model.step(landmarks, faces)
    assert float(last.g_l1) < float(first.g_l1)
