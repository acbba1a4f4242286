"""The network's architecture as a validated configuration; no torch here, so the command line
and spec files read it without importing torch (~1.6 s)."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field

from svrlens.options import Int, option, validated


@validated
class ModelConfig:
    """Architecture of :class:`ReconstructionNet` (validated when built: a bad value is a one-line
    ``ValueError`` naming the field).

    grid_size : points = grid_size² (32 → 1024, the paper's count)
    decoder_width : channels of the folding MLPs (512 as FoldingNet; smaller for laptop runs)
    decoder_blocks : residual blocks per fold
    n_classes : size of the optional linear class head on the codeword (0: none)
    eval_grid_size : grid folded when predicting (validation, test); None: ``grid_size``.
        A model trained on a coarse grid (cheaper: the decoder's cost is linear in points) is
        then still compared with 1024-point ground truth at 1024 points.
    precision : ``"float32"`` (default) or ``"bfloat16"``: the encoder and the folds' input
        projections and residual blocks run under bfloat16 autocast (training, validation and
        prediction alike; fold 2 so reads fold 1's points rounded to bfloat16), while each
        fold's output layer runs in float32 on its widened features: the points are float32
        values (a bfloat16 coordinate would be quantised to ~2⁻⁹ of its size, as coarse as the
        sampling floor). The codewords are the encoder's bfloat16 output widened to float32; the
        loss is float32. Fast where the CPU has bfloat16 arithmetic (AVX512-BF16, AMX) or on a
        GPU that supports bfloat16; elsewhere torch emulates it, 20x slower than float32 for
        the laptop model (measured on an AVX2-only CPU): training warns, a sweep refuses.
    """

    grid_size: Annotated[Int, option("side of the folding grid (points = side²)", ge=2, le=256)] = 32
    decoder_width: Annotated[Int, option("channels of the folding MLPs", ge=1, le=8192)] = 512
    decoder_blocks: Annotated[Int, option("residual blocks per fold", ge=0, le=64)] = 2
    n_classes: Annotated[Int, option("classes of the linear class head (0: none)", ge=0, le=10**6)] = 0
    eval_grid_size: Annotated[
        Optional[Annotated[Int, Field(ge=2, le=256)]],
        option("side of the grid folded when predicting (none: grid_size)"),
    ] = None
    precision: Annotated[
        Literal["float32", "bfloat16"],
        option("arithmetic of the hidden layers: float32, or bfloat16 autocast (outputs stay float32)"),
    ] = "float32"
