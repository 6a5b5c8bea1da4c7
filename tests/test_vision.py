"""ftcourse.vision: the processor and collator, patch embedding against transformers' ViT, LoRA for convolutions
against PEFT, the conversion of TF-style convolutions, target finding, augmentations and their inverses, and a
short real training run of the tiny ViT."""
import copy
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset
from ftcourse.vision import (ImageCollator, ImageProcessor, LoRAConv2d, affine_matrix, find_targets, image_classification_loss,
                             image_logits, inject_conv_lora, load_digits_splits, load_efficientnet_lite0, patch_embed, patchify,
                             rand_augment, random_hflip, random_rotation, set_batchnorm_momentum, suffix_counts, tiny_vit,
                             to_plain_conv2d, warp)
from ftcourse.train import TrainConfig, count_parameters, train


@pytest.fixture(scope="module")
def digits():
    return load_digits_splits()


def test_digit_splits_are_complete_stratified_and_scaled(digits):
    from sklearn.datasets import load_digits
    everything = load_digits()
    total = torch.bincount(torch.tensor(everything.target), minlength=10).double()
    sizes = {k: len(y) for k, (_, y) in digits.items()}
    assert sum(sizes.values()) == 1797 and sizes["test"] == 540
    allx = torch.cat([x for x, _ in digits.values()]).flatten(1).double() * 16
    assert sorted(map(tuple, allx.tolist())) == sorted(map(tuple, torch.tensor(everything.data).tolist()))   # each image exactly once
    for x, y in digits.values():
        assert x.dtype == torch.float32 and x.shape[1:] == (1, 8, 8) and 0 <= x.min() and x.max() == 1
        expected = total * len(y) / 1797
        assert (torch.bincount(y, minlength=10) - expected).abs().max() <= 2    # stratified: class shares as in the whole set
    assert load_digits_splits(seed=0)["test"][1].tolist() == digits["test"][1].tolist()
    assert load_digits_splits(seed=1)["test"][1].tolist() != digits["test"][1].tolist()


def test_processor_resizes_repeats_and_normalises_each_image_alone(digits):
    x = digits["train"][0][:6]
    proc = ImageProcessor(size=24, mean=(0.2, 0.3, 0.4), std=(0.5, 0.6, 0.7))
    before = x.clone()
    out = proc(x)
    assert torch.equal(x, before) and out.shape == (6, 3, 24, 24)
    expected = (F.interpolate(x, size=(24, 24), mode="bilinear", align_corners=False, antialias=True).clamp(0, 1).repeat(1, 3, 1, 1)
                - torch.tensor([0.2, 0.3, 0.4]).view(1, 3, 1, 1)) / torch.tensor([0.5, 0.6, 0.7]).view(1, 3, 1, 1)
    torch.testing.assert_close(out, expected)
    assert torch.equal(torch.cat([proc(x[i:i + 1]) for i in range(6)]), out)
    with pytest.raises(ValueError, match="one value per channel"): ImageProcessor(mean=(0.5,), std=(0.5,))
    with pytest.raises(ValueError, match="positive"): ImageProcessor(std=(1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="channels"): ImageProcessor(size=8)(torch.rand(2, 2, 8, 8))
    with pytest.raises(ValueError, match=r"\(n, channels, height, width\)"): proc(torch.rand(8, 8))


def test_collator_augments_between_resize_and_normalise(digits):
    x, y = digits["train"][0][:4], digits["train"][1][:4]
    seen = []
    def augment(images):
        seen.append(images.clone()); return 1 - images
    proc = ImageProcessor(size=16, mean=(0.5,), std=(0.5,), channels=1)
    batch = ImageCollator(proc, augment)(list(zip(x, y)))
    torch.testing.assert_close(seen[0], proc.resize(x))
    torch.testing.assert_close(batch["pixel_values"], proc.normalize(1 - proc.resize(x)))
    assert torch.equal(batch["labels"], y)
    with pytest.raises(TypeError, match="pairs"): ImageCollator(proc)([{"image": x[0]}])
    with pytest.raises(ValueError, match="empty"): ImageCollator(proc)([])


@pytest.mark.parametrize("c,h,w,p", [(1, 16, 16, 4), (3, 12, 8, 2), (2, 5, 5, 5)])
def test_patch_embedding_equals_the_strided_convolution_of_vit(c, h, w, p):
    g = torch.Generator().manual_seed(c * 100 + p)
    x = torch.randn(3, c, h, w, generator=g, dtype=torch.float64)
    conv = nn.Conv2d(c, 7, p, stride=p).double()
    assert patchify(x, p).shape == (3, (h // p) * (w // p), c * p * p)
    torch.testing.assert_close(patch_embed(x, conv.weight, conv.bias), conv(x).flatten(2).transpose(1, 2))
    with pytest.raises(ValueError, match="must divide"): patchify(x, p + 1 if (h % (p + 1) or w % (p + 1)) else p + 2)


def test_patch_embedding_matches_transformers_vit():
    torch.manual_seed(0)
    vit = tiny_vit(image_size=16, patch_size=4, num_channels=3)
    x = torch.randn(2, 3, 16, 16)
    proj = vit.vit.embeddings.patch_embeddings.projection
    torch.testing.assert_close(patch_embed(x, proj.weight, proj.bias), vit.vit.embeddings.patch_embeddings(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("k,stride,padding,bias", [(1, 1, 0, False), (1, 2, 0, True), (3, 2, 1, True), (5, 1, 2, False)])
def test_lora_conv2d_zero_init_merge_and_peft_agreement(k, stride, padding, bias):
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(k + stride)
    base = nn.Conv2d(6, 9, k, stride=stride, padding=padding, bias=bias)
    layer = LoRAConv2d(copy.deepcopy(base), r=3, alpha=6)
    x = torch.randn(2, 6, 10, 11)
    assert torch.equal(layer(x), base(x))
    assert layer.lora_A.shape == (3, 6 * k * k) and layer.lora_B.shape == (9, 3)
    assert count_parameters(layer)[0] == 3 * (6 * k * k + 9)
    with torch.no_grad(): layer.lora_B.normal_()
    merged = F.conv2d(x, base.weight + layer.delta(), base.bias, stride, padding)
    torch.testing.assert_close(layer(x), merged, atol=1e-5, rtol=1e-5)
    peft = get_peft_model(nn.Sequential(copy.deepcopy(base)), LoraConfig(r=3, lora_alpha=6, target_modules=["0"]))
    pl = peft.base_model.model[0]
    with torch.no_grad():
        pl.lora_A["default"].weight.copy_(layer.lora_A.view(3, 6, k, k)); pl.lora_B["default"].weight.copy_(layer.lora_B.view(9, 3, 1, 1))
    torch.testing.assert_close(peft(x), layer(x), atol=1e-5, rtol=1e-5)
    layer.merge(); torch.testing.assert_close(layer(x), merged, atol=1e-5, rtol=1e-5)
    layer.unmerge(); torch.testing.assert_close(layer.base.weight, base.weight, atol=1e-6, rtol=0)
    out = layer(x).sum(); out.backward()
    assert layer.lora_A.grad is not None and layer.base.weight.grad is None


def test_lora_conv2d_refuses_what_it_cannot_adapt():
    class Padded(nn.Conv2d):
        def forward(self, x): return super().forward(F.pad(x, (1, 1, 1, 1)))
    with pytest.raises(TypeError, match="to_plain_conv2d"): LoRAConv2d(Padded(4, 4, 1))
    with pytest.raises(ValueError, match="groups=4"): LoRAConv2d(nn.Conv2d(4, 4, 3, groups=4))
    with pytest.raises(ValueError, match="rank"): LoRAConv2d(nn.Conv2d(4, 2, 1), r=3)
    # a subclass that transforms its input cannot be turned into a plain convolution
    model = nn.Sequential(Padded(4, 4, 1))
    with pytest.raises(ValueError, match="cannot be converted"): to_plain_conv2d(model)


@pytest.fixture(scope="module")
def lite():
    return load_efficientnet_lite0(10, 32)


def test_efficientnet_plain_convs_keep_outputs_and_lora_trains_only_adapters(lite):
    model = copy.deepcopy(lite).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad(): before = model(x)
    names = to_plain_conv2d(model)
    assert len(names) == 32 and all(type(model.get_submodule(n)) is nn.Conv2d for n in names)
    with torch.no_grad(): torch.testing.assert_close(model(x), before, atol=1e-6, rtol=1e-6)
    targets = find_targets(model, kinds=(nn.Conv2d,), exclude=("_conv_stem",))
    assert suffix_counts(targets) == {"_project_conv": 16, "_expand_conv": 15, "_conv_head": 1}
    assert set(targets) == set(names)                 # the dense convolutions besides the stem are the 1×1 ones
    inject_conv_lora(model, targets, r=4, alpha=8, trainable=("_fc",))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"{n}.lora_{m}" for n in targets for m in "AB"} | {"_fc.weight", "_fc.bias"}
    expected = sum(4 * (model.get_submodule(n).base.in_channels + model.get_submodule(n).base.out_channels) for n in targets) + 1280 * 10 + 10
    assert count_parameters(model)[0] == expected
    with torch.no_grad(): torch.testing.assert_close(model(x), before, atol=1e-5, rtol=1e-5)   # B = 0: unchanged
    assert set_batchnorm_momentum(model, 0.1) == 49 and all(m.momentum == 0.1 for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    with pytest.raises(ValueError, match="no nn.Conv2d matches"): inject_conv_lora(copy.deepcopy(lite), ("nope",))


def test_find_targets_by_kind_parent_and_location():
    vit = tiny_vit(num_layers=2)
    att = find_targets(vit, kinds=(nn.Linear,), inside=("Attention",))
    assert suffix_counts(att) == {"q_proj": 2, "k_proj": 2, "v_proj": 2, "o_proj": 2}
    assert find_targets(vit, kinds=(nn.Linear,), exclude=("classifier",)) == [n for n, m in vit.named_modules()
                                                                            if isinstance(m, nn.Linear) and n != "classifier"]
    assert set(find_targets(vit, kinds=(nn.Linear,), within="vit.layers.1")) == {n for n in find_targets(vit, kinds=(nn.Linear,)) if n.startswith("vit.layers.1.")}
    cnn = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 3, groups=8), nn.Conv2d(8, 4, 1), nn.Flatten(), nn.Linear(4, 2))
    assert find_targets(cnn) == ["0", "2", "4"]                        # the depthwise convolution is not a dense map
    with pytest.raises(ValueError, match="no submodule"): find_targets(vit, within="model.language_model")


def test_augmentations_are_exact_where_they_should_be(digits):
    x = ImageProcessor(size=32, mean=(0.5,), std=(0.5,), channels=1).resize(digits["test"][0][:16])
    before = x.clone()
    assert (rand_augment(x, n=3, magnitude=0) - x).abs().max() < 1e-5 and torch.equal(x, before)
    assert (random_rotation(x, 0) - x).abs().max() < 1e-5
    assert torch.equal(random_hflip(random_hflip(x, 1.0), 1.0), x) and torch.equal(random_hflip(x, 0.0), x)
    torch.testing.assert_close(warp(x, affine_matrix(torch.full((16,), 90.0)))[..., 1:-1, 1:-1], torch.rot90(x, 1, dims=(-2, -1))[..., 1:-1, 1:-1], atol=1e-5, rtol=0)
    m = affine_matrix(torch.full((16,), -12.0), translate=torch.full((16, 2), -0.05), scale=torch.full((16,), 1.1), shear=torch.full((16, 2), 0.05))
    assert (warp(warp(x, m), torch.linalg.inv(m)) - x)[..., 8:-8, 8:-8].abs().max() < 0.1
    a = rand_augment(x, generator=torch.Generator().manual_seed(3))
    b = rand_augment(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, x) and a.shape == x.shape and 0 <= a.min() and a.max() <= 1
    with pytest.raises(ValueError, match="unknown augmentation"): rand_augment(x, ops=("hflip",))
    with pytest.raises(ValueError, match="magnitude"): rand_augment(x, magnitude=31)


@pytest.mark.slow
def test_tiny_vit_learns_digits_through_the_training_loop(digits):
    torch.manual_seed(0)
    proc = ImageProcessor(size=16, mean=(0.5,), std=(0.5,), channels=1)
    model = tiny_vit(num_layers=2)
    x, y = digits["train"]
    run = train(model, TensorDataset(x, y), TrainConfig(epochs=10, batch_size=64, lr=2e-3, schedule="cosine", progress=False),
                collate_fn=ImageCollator(proc), loss_fn=image_classification_loss)
    losses = [h["loss"] for h in run["history"] if "loss" in h]
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    tx, ty = digits["test"]
    acc = (image_logits(model, tx, proc).argmax(-1) == ty).float().mean().item()
    assert acc > 0.7, acc                                             # chance is 0.1
