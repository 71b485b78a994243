"""The sampling core: seeds, truncation, slerp, class blending, GANSpace directions, layouts."""

import hashlib
import json
import subprocess
import sys

import pytest
import torch

from conftest import ROOT
from gan import load_generator, sampling
from gan.sampling import LAYOUTS, View, make_view, sample

SAME_SEED_SNIPPET = """
import hashlib, sys
from gan import load_generator, sampling
g = load_generator(sys.argv[1])
images, _ = sampling.sample(g, sampling.make_view(g, "5", 1234, sampling.LAYOUTS[1]))
print(hashlib.sha256(images.numpy().tobytes()).hexdigest())
"""


@pytest.fixture
def g(tiny_export):
    return load_generator(tiny_export)


def test_same_seed_same_image_in_another_process(g, tiny_export):
    images, _ = sample(g, make_view(g, "5", 1234, LAYOUTS[1]))
    here = hashlib.sha256(images.numpy().tobytes()).hexdigest()
    out = subprocess.run([sys.executable, "-c", SAME_SEED_SNIPPET, str(tiny_export)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == here
    other, _ = sample(g, make_view(g, "5", 1235, LAYOUTS[1]))
    assert not torch.equal(other, images)


def test_layouts_share_the_first_latent(g):
    one, n1 = sample(g, View(label=5, seed=7))
    grid, n2 = sample(g, View(label=5, seed=7, layout=LAYOUTS[1]))
    rows, n3 = sample(g, View(label=5, seed=7, layout=LAYOUTS[2]))
    assert (one.shape[0], grid.shape[0], rows.shape[0], n1, n2, n3) == (1, 16, 80, 1, 4, 8)
    assert torch.allclose(grid[0], one[0], atol=1e-4)
    assert torch.allclose(rows[5 * 8], one[0], atol=1e-4)  # row 5 is class 5, same noise column 0
    single, _ = sample(g, View(label=5, seed=8))
    assert torch.allclose(grid[1], single[0], atol=1e-4)  # the grid walks seeds 7, 8, ...


def test_truncation_zero_makes_the_seed_irrelevant(g):
    a, _ = sample(g, View(label=3, seed=1, truncation=0.0))
    b, _ = sample(g, View(label=3, seed=2, truncation=0.0))
    c, _ = sample(g, View(label=3, seed=2, truncation=0.5))
    assert torch.equal(a, b) and not torch.equal(b, c)


def test_slerp_endpoints_and_norm():
    a, b = sampling.latents(1, 5, 64), sampling.latents(2, 5, 64)
    assert torch.allclose(sampling.slerp(a, b, 0.0), a, atol=1e-5)
    assert torch.allclose(sampling.slerp(a, b, 1.0), b, atol=1e-5)
    mid = sampling.slerp(a, b, 0.5)
    assert (mid.norm(dim=1) > (a + b).norm(dim=1) / 2).all()  # stays on the shell, unlike lerp
    assert torch.allclose(sampling.slerp(a, a, 0.3), a, atol=1e-6)


def test_interpolation_morphs_class_and_seed(g):
    view = make_view(g, "3", 1, label_b="8", seed_b=2, t=1.0)  # t > 0: B is used, so kept
    start, _ = sample(g, View(label=3, seed=1))
    end, _ = sample(g, View(label=8, seed=2))
    frames, nrow = sampling.morph(g, view, steps=5)
    assert len(frames) == 5 and nrow == 1
    assert torch.allclose(frames[0], start, atol=1e-6)
    assert torch.allclose(frames[-1], end, atol=1e-4)
    middle = frames[2]
    assert not torch.allclose(middle, start, atol=1e-3) and not torch.allclose(middle, end, atol=1e-3)


def test_directions_are_cached_unit_and_move_the_image(g):
    d = sampling.directions(g)
    assert d.shape == (sampling.NUM_DIRECTIONS, g.latent_dim)
    assert sampling.directions(g) is d
    assert torch.allclose(d.norm(dim=1), torch.ones(len(d)))
    base, _ = sample(g, View(label=1, seed=0, shifts=(0.0, 0.0, 0.0, 0.0)))
    moved, _ = sample(g, View(label=1, seed=0, shifts=(2.0, 0.0, 0.0, 0.0)))
    z, _, _ = sampling.view_inputs(g, View(label=1, seed=0, shifts=(2.0, 0.0, 0.0, 0.0)))
    assert torch.allclose(z[0] - sampling.latents(0, 1, g.latent_dim)[0], 2 * d[0], atol=1e-5)
    assert not torch.equal(base, moved)


@pytest.mark.parametrize("kwargs, message", [
    ({"label": "five", "seed": 1}, "unknown class 'five'; this generator knows 0, 1"),
    ({"label": "5", "seed": -1}, "seed must be between 0 and 4294967295, got -1"),
    ({"label": "5", "seed": 2**32}, "seed must be between 0 and 4294967295"),
    ({"label": "5", "seed": float("nan")}, "seed must be a whole number, got nan"),
    ({"label": "5", "seed": 1.5}, "seed must be a whole number"),
    ({"label": "5", "seed": 1, "truncation": float("nan")}, "truncation must be a number between 0.0 and 1.0"),
    ({"label": "5", "seed": 1, "t": 2.0}, "t must be a number between 0.0 and 1.0"),
    ({"label": "5", "seed": 1, "label_b": "X", "t": 0.5}, "unknown class 'X'"),
    ({"label": "5", "seed": 1, "seed_b": -1, "t": 0.5}, "seed B must be between 0"),
    ({"label": "5", "seed": 1, "layout": "huge"}, "unknown layout 'huge'"),
])
def test_bad_values_are_clear_errors(g, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_view(g, **kwargs)


def test_class_rows_is_the_apps_one_row_per_class_and_metrics_draw_independent_latents(g):
    rows, nrow = sample(g, View(label=3, seed=5, layout=LAYOUTS[2]))
    assert nrow == sampling.PER_CLASS and torch.equal(sampling.class_rows(g, seed=5), rows)
    images, labels = sampling.class_balanced(g, per_class=3, seed=5)
    assert labels.tolist() == [k for k in range(10) for _ in range(3)]
    assert torch.equal(sampling.class_balanced(g, per_class=3, seed=5)[0], images)
    # another seed is another draw: no image in common (per-row seeds would share all but one)
    other, _ = sampling.class_balanced(g, per_class=3, seed=6)
    assert all(not torch.allclose(other[i], images[j], atol=1e-3) for i in range(30) for j in range(30)
               if labels[i] == labels[j])


def test_along_a_direction_moves_only_that_shift(g):
    view = View(label=2, seed=4, shifts=(0.0, 1.0, 0.0, 0.0))
    strip = sampling.along(g, view, direction=0)
    assert strip.shape == (len(sampling.STRIP), 1, 28, 28)
    middle, _ = sample(g, View(label=2, seed=4, shifts=(0.0, 1.0, 0.0, 0.0)))
    assert torch.allclose(strip[3], middle[0], atol=1e-4)  # offset 0 keeps the view as it is
    end, _ = sample(g, View(label=2, seed=4, shifts=(3.0, 1.0, 0.0, 0.0)))
    assert torch.allclose(strip[-1], end[0], atol=1e-4)
    assert not torch.allclose(strip[0], strip[-1], atol=1e-3)


def test_sampling_works_for_colour_generators():
    from gan.nets import Generator

    torch.manual_seed(0)
    colour = Generator("conv", latent_dim=8, num_classes=3, img_shape=(3, 32, 32), width=8).eval()
    rows, nrow = sample(colour, View(label=1, seed=0, layout=LAYOUTS[2]))
    assert rows.shape == (3 * sampling.PER_CLASS, 3, 32, 32) and nrow == sampling.PER_CLASS
    assert sampling.along(colour, View(label=1, seed=0), 2).shape == (7, 3, 32, 32)


def test_directions_while_other_requests_use_the_same_generator(g):
    """The PCA hooks the generator's first layer; other threads' forwards must pass untouched."""
    import threading

    errors, stop = [], threading.Event()

    def render():
        while not stop.is_set():
            try:
                assert sample(g, View(label=1, seed=0))[0].shape == (1, 1, 28, 28)
            except Exception as e:  # noqa: BLE001 - collected for the assertion below
                errors.append(e)

    worker = threading.Thread(target=render)
    worker.start()
    try:
        for _ in range(5):
            sampling.directions.cache_clear()
            assert sampling.directions(g).shape == (sampling.NUM_DIRECTIONS, g.latent_dim)
    finally:
        stop.set()
        worker.join()
    assert errors == []


def test_class_b_and_seed_b_are_checked_only_when_used(g):
    view = make_view(g, "5", 1, label_b="Sandal", seed_b=-1, t=0.0)  # unused at t = 0
    assert view.label_b is None and view.seed_b is None


def test_one_row_per_class_shows_at_most_twenty_rows_around_the_picked_class():
    from gan.limits import MAX_CLASS_ROWS
    from gan.nets import Generator

    wide = Generator("conv", latent_dim=4, num_classes=1000, img_shape=(1, 8, 8), width=4).eval()
    images, nrow = sample(wide, make_view(wide, "500", 0, LAYOUTS[2]))
    assert len(images) == MAX_CLASS_ROWS * nrow
    _, labels, _ = sampling.plan(View(label=500, seed=0, layout=LAYOUTS[2]), 1000)
    assert 500 in labels and len(set(labels.tolist())) == MAX_CLASS_ROWS
    _, labels, _ = sampling.plan(View(label=999, seed=0, layout=LAYOUTS[2]), 1000)
    assert labels.max() == 999


def test_a_large_view_is_generated_in_chunks_that_give_the_same_images(g, monkeypatch):
    view = View(label=1, seed=0, layout=LAYOUTS[1])  # 16 images
    whole, _ = sample(g, view)
    per_image = sampling._activations_per_image(json.dumps(g.config))
    monkeypatch.setattr(sampling, "ACTIVATION_BUDGET", 3 * per_image)  # 3 images per call
    calls = []
    handle = g.register_forward_hook(lambda module, inputs, out: calls.append(len(out)))
    try:
        chunked, _ = sample(g, view)
    finally:
        handle.remove()
    assert calls == [3, 3, 3, 3, 3, 1] and torch.allclose(chunked, whole, atol=1e-4)  # GEMM blocking


@pytest.mark.parametrize("arch", ["conv", "resnet", "mlp"])
def test_standing_stats_are_the_statistics_of_the_generators_own_activations(arch):
    """Buffers left from other weights (as an EMA generator's are) are replaced by the mean and
    variance each batch norm's input has over fresh draws; the original keeps its buffers."""
    from gan.nets import Generator

    def norms_of(generator):
        return [m for m in generator.modules() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))]

    def input_stats(generator):  # per-channel mean and variance of each batch norm's input
        seen = []
        hooks = [m.register_forward_hook(lambda m, i, out: seen.append(i[0].transpose(0, 1).flatten(1)))
                 for m in norms_of(generator)]
        with torch.no_grad():
            generator(torch.randn(4096, 8), torch.arange(4096) % 4)
        for h in hooks:
            h.remove()
        return [(s.mean(1), s.var(1)) for s in seen]

    torch.manual_seed(0)
    g = Generator(arch, latent_dim=8, num_classes=4, img_shape=(1, 28, 28), width=8).eval()
    for m in norms_of(g):  # statistics of some other network
        m.running_mean.fill_(3.0)
        m.running_var.fill_(0.01)
    fixed = sampling.standing_stats(g, samples=1024, batch=256)
    for m, (mean, var) in zip(norms_of(fixed), input_stats(fixed)):
        assert ((m.running_mean - mean).abs() <= 0.25 * var.sqrt()).all()
        # not exact: while recomputing, later norms see inputs normalised by batch statistics
        assert ((m.running_var / var - 1).abs() < 0.35).all()
        assert m.momentum is not None  # later training still uses a running average
    assert all(torch.all(m.running_mean == 3.0) for m in norms_of(g))  # the original is untouched
    again = sampling.standing_stats(g, samples=1024, batch=256)
    assert all(torch.equal(a, b) for a, b in zip(fixed.buffers(), again.buffers()))  # seeded
    assert not fixed.training
