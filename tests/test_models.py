import pytest
import torch

from ganonlib.models.networks import InstanceNorm2d, define_D, define_G, upsample_pad_conv
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


@pytest.mark.slow
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


def test_subpixel_final_layer_equals_upsample_pad_conv():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(16, 3, 4, padding=1)
    torch.nn.init.normal_(conv.bias)
    reference = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2), torch.nn.ZeroPad2d((1, 0, 1, 0)), conv)
    for fmt in (torch.contiguous_format, torch.channels_last):
        x = torch.randn(2, 16, 8, 8).contiguous(memory_format=fmt).requires_grad_(True)
        want, got = reference(x), upsample_pad_conv(x, conv)
        assert got.shape == want.shape == (2, 3, 16, 16)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        grads_want = torch.autograd.grad(want.square().sum(), [x, conv.weight, conv.bias])
        grads_got = torch.autograd.grad(got.square().sum(), [x, conv.weight, conv.bias])
        for a, b in zip(grads_got, grads_want):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_generator_output_does_not_depend_on_the_final_layer_formulation():
    g = define_G().eval()
    x = torch.randn(1, 3, 256, 256)
    with torch.inference_mode():
        fast = g(x)
        g.subpixel_final = False
        torch.testing.assert_close(fast, g(x), rtol=1e-5, atol=1e-5)


def test_channels_last_instance_norm_equals_pytorchs():
    """In training (gradients on) and in inference (the CPU's group-norm kernel), fp32 and under bf16 autocast."""
    x = torch.randn(3, 8, 16, 16) * 4 + 2
    stock = torch.nn.InstanceNorm2d(8)(x)
    for grad in (True, False):
        with torch.set_grad_enabled(grad):
            ours = InstanceNorm2d(8)(x.contiguous(memory_format=torch.channels_last))
            with torch.autocast("cpu", dtype=torch.bfloat16):
                half = InstanceNorm2d(8)(x.bfloat16().contiguous(memory_format=torch.channels_last))
        assert ours.is_contiguous(memory_format=torch.channels_last)
        assert half.dtype == torch.bfloat16 and half.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(ours, stock, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(half.float(), stock, rtol=0.02, atol=0.03)  # bf16's 8-bit mantissa


def test_frozen_and_batched_discriminator_step_trains_like_the_textbook_step():
    def trained(**kw):
        torch.manual_seed(0)
        g, d = define_G(), define_D()
        # plain SGD: Adam's first step divides by |gradient| and would blow float noise up to its learning rate
        opt_g, opt_d = torch.optim.SGD(g.parameters(), lr=1.0), torch.optim.SGD(d.parameters(), lr=1.0)
        model = Pix2Pix(g, d, opt_g, opt_d, **kw)
        torch.manual_seed(1)  # the same dropout masks in both runs
        landmarks = (torch.rand(2, 3, 256, 256) > 0.98).float() * 2 - 1
        losses = model.step(landmarks, torch.rand(2, 3, 256, 256) * 2 - 1)
        return losses, g, d

    fast, g1, d1 = trained()
    slow, g2, d2 = trained(freeze_d_for_g=False, batch_d=False)
    torch.testing.assert_close(fast.stacked(), slow.stacked(), rtol=1e-4, atol=1e-5)
    for a, b in zip([*g1.parameters(), *d1.parameters()], [*g2.parameters(), *d2.parameters()]):
        assert a.requires_grad  # D is trainable again after the step
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
