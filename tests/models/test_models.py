import pytest
import torch

from svrlens.models import FoldingDecoder, ModelConfig, ResNet18Encoder, build_model


def torchvision_resnet18_shapes():
    """Parameter and buffer names/shapes of torchvision.models.resnet18 (from its documented structure)."""
    shapes = {"conv1.weight": (64, 3, 7, 7)}

    def bn(prefix, c):
        shapes.update(
            {
                f"{prefix}.weight": (c,),
                f"{prefix}.bias": (c,),
                f"{prefix}.running_mean": (c,),
                f"{prefix}.running_var": (c,),
                f"{prefix}.num_batches_tracked": (),
            }
        )

    bn("bn1", 64)
    inplanes = 64
    for layer, planes in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            p = f"layer{layer}.{block}"
            shapes[f"{p}.conv1.weight"] = (planes, inplanes if block == 0 else planes, 3, 3)
            bn(f"{p}.bn1", planes)
            shapes[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
            bn(f"{p}.bn2", planes)
            if block == 0 and layer > 1:
                shapes[f"{p}.downsample.0.weight"] = (planes, inplanes, 1, 1)
                bn(f"{p}.downsample.1", planes)
        inplanes = planes
    shapes.update({"fc.weight": (1000, 512), "fc.bias": (1000,)})
    return shapes


def test_encoder_parameter_count():
    encoder = ResNet18Encoder()
    assert sum(p.numel() for p in encoder.parameters()) == 11_176_512
    with_fc = sum(
        torch.Size(s).numel()
        for k, s in torchvision_resnet18_shapes().items()
        if "running" not in k and "num_batches" not in k
    )
    assert with_fc == 11_689_512  # torchvision's documented count with the 1000-class head


def test_torchvision_state_dict_loads():
    generator = torch.Generator().manual_seed(0)
    state = {
        k: (torch.randn(s, generator=generator) if s else torch.tensor(7))
        for k, s in torchvision_resnet18_shapes().items()
    }
    encoder = ResNet18Encoder()
    encoder.load_state_dict(state)  # strict: every non-fc name and shape must match
    ours = encoder.state_dict()
    assert set(ours) == {k for k in state if not k.startswith("fc.")}
    for key, value in ours.items():
        torch.testing.assert_close(value, state[key])


@pytest.mark.parametrize("size", [64, 128, 224])
def test_encoder_input_sizes(size):
    encoder = ResNet18Encoder().eval()
    with torch.no_grad():
        assert encoder(torch.randn(2, 3, size, size)).shape == (2, 512)


@pytest.mark.parametrize("grid_size", [8, 16, 32])
def test_decoder_output_shape(grid_size):
    decoder = FoldingDecoder(grid_size=grid_size, width=32)
    points = decoder(torch.randn(3, 512))
    assert points.shape == (3, grid_size * grid_size, 3) and decoder.n_points == grid_size**2
    assert decoder.grid.min() == pytest.approx(-0.3) and decoder.grid.max() == pytest.approx(0.3)


def test_decoder_parameter_counts_documented():
    assert sum(p.numel() for p in FoldingDecoder(width=512).parameters()) == 2_646_534
    assert sum(p.numel() for p in FoldingDecoder(width=128).parameters()) == 268_422


def _fold_reference(fold, features, codewords):
    """FoldingNet's literal form: a Conv1d over concat(per-point features, codeword repeated per point)."""
    x = torch.cat([features, codewords[:, :, None].expand(-1, -1, features.shape[2])], 1).double()
    weight, bias = fold.project.weight.double(), fold.project.bias.double()
    n_features = features.shape[1]
    point = torch.nn.functional.conv1d(x[:, :n_features], weight[:, :n_features])
    cloud = torch.nn.functional.conv1d(x[:, n_features:], weight[:, n_features:], bias)
    norm = lambda bn, v, dims: (
        (v - bn.running_mean.double().view(1, -1, *([1] * (v.dim() - 2))))
        / torch.sqrt(bn.running_var.double().view(1, -1, *([1] * (v.dim() - 2))) + bn.eps)
        * bn.weight.double().view(1, -1, *([1] * (v.dim() - 2)))
        + bn.bias.double().view(1, -1, *([1] * (v.dim() - 2)))
    )  # noqa: E731
    hidden = norm(fold.norm_point, point, 3) + norm(fold.norm_cloud, cloud[:, :, :1], 3)
    return fold.double().out(fold.blocks(hidden)).float(), fold.float()


def test_split_projection_matches_concatenated_conv():
    torch.manual_seed(0)
    decoder = FoldingDecoder(grid_size=6, width=16)
    for module in decoder.modules():  # non-trivial running statistics and affine parameters
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.5, 0.5)
    decoder.eval()
    codewords = torch.randn(3, 512)
    grid = decoder.grid[None].expand(3, -1, -1)
    expected, _ = _fold_reference(decoder.fold1, grid, codewords)
    assert torch.allclose(decoder.fold1(grid, codewords), expected, atol=1e-4)


def test_decoder_samples_a_denser_grid_of_the_same_surface():
    torch.manual_seed(0)
    decoder = FoldingDecoder(grid_size=4, width=16).eval()
    codewords = torch.randn(2, 512)
    coarse = decoder(codewords)
    dense = decoder(codewords, grid_size=7)  # 7 x 7 on [-0.3, 0.3]^2 contains the 4 x 4 grid's corners
    assert coarse.shape == (2, 16, 3) and dense.shape == (2, 49, 3)
    assert torch.allclose(dense[:, [0, 6, 42, 48]], coarse[:, [0, 3, 12, 15]], atol=1e-5)
    assert torch.equal(decoder(codewords, grid_size=4), coarse)


def test_model_forward_and_class_head():
    model = build_model(ModelConfig(grid_size=8, decoder_width=16, n_classes=3))
    points, codewords = model(torch.randn(2, 3, 64, 64))
    assert points.shape == (2, 64, 3) and codewords.shape == (2, 512)
    assert model.classify(codewords).shape == (2, 3)
    with pytest.raises(ValueError, match="without a class head"):
        build_model(ModelConfig(grid_size=8, decoder_width=16)).classify(codewords)
    with pytest.raises(ValueError, match="grid_size: expected a value ≥ 2, found 1"):
        build_model(ModelConfig(grid_size=1))


def test_bfloat16_precision_runs_hidden_layers_in_bfloat16_and_outputs_in_float32():
    """The hidden convolutions see bfloat16 inputs, each fold's output layer float32 ones, and
    the points are not on the bfloat16 grid (a bfloat16 output layer would quantise them to ~2⁻⁹
    of their size, as large as the sampling floor)."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(grid_size=8, decoder_width=16, precision="bfloat16"))
    seen = {}
    hidden = model.decoder.fold1.blocks[0].net[2]
    hooks = [
        model.encoder.conv1.register_forward_hook(lambda m, i, o: seen.update(encoder=o.dtype)),
        hidden.register_forward_hook(lambda m, i, o: seen.update(hidden=o.dtype)),
        model.decoder.fold2.out[2].register_forward_pre_hook(lambda m, i: seen.update(head=i[0].dtype)),
    ]
    points, codewords = model(torch.randn(4, 3, 32, 32))
    for hook in hooks:
        hook.remove()
    assert seen == {"encoder": torch.bfloat16, "hidden": torch.bfloat16, "head": torch.float32}
    assert points.dtype == codewords.dtype == torch.float32
    off_grid = (points != points.bfloat16().float()).float().mean()
    assert off_grid > 0.9  # float32 points, not bfloat16 ones widened
    points.sum().backward()  # and it trains: gradients reach the first layer
    gradient = model.encoder.conv1.weight.grad
    assert gradient is not None and torch.isfinite(gradient).all()


def test_float32_precision_is_untouched_by_autocast_code(monkeypatch):
    """In float32 the autocast contexts change nothing: the same model with ``torch.autocast``
    replaced by a context that does nothing gives the same bits, forward and backward (float32
    runs keep their numbers and their keys)."""
    import contextlib

    def run():
        torch.manual_seed(0)
        model = build_model(ModelConfig(grid_size=8, decoder_width=16))
        points, codewords = model(torch.randn(3, 3, 32, 32))
        (points.square().sum() + codewords.sum()).backward()
        return points, codewords, model.encoder.conv1.weight.grad

    with_autocast = run()
    monkeypatch.setattr(torch, "autocast", lambda *args, **kwargs: contextlib.nullcontext())
    without = run()
    assert all(torch.equal(a, b) for a, b in zip(with_autocast, without))
    with pytest.raises(ValueError, match="precision"):
        ModelConfig(precision="float16")
