"""The diagnosis in words: the Case, the evidence lines and the one-screen summary.

The verdict comes first, with its rule and its statistic; everything after it is evidence.
"""

from __future__ import annotations

CASES = {
    1: "Case 1: training shapes clustered, images not",
    2: "Case 2: neither training images nor shapes clustered",
    3: "Case 3: training images and shapes both clustered",
    4: "Case 4: training images clustered, shapes not (not named in the paper)",
}


def case_of(result: dict) -> int:
    """The Case (paper sec. 3.1) from the calibrated "clustered" calls of the training images and
    shapes; the fourth combination (images clustered, shapes not) is Case 4."""
    images = bool(result["image_tendency"]["clustered"])
    shapes = bool(result["shape_tendency"]["clustered"])
    return {(False, True): 1, (False, False): 2, (True, True): 3, (True, False): 4}[(images, shapes)]


def _call(tendency: dict, what: str) -> str:
    null = tendency.get("null")
    if null is None:
        return (
            f"{what}: tendency {tendency['score']:.3f} [{tendency['interval'][0]:.3f}, "
            f"{tendency['interval'][1]:.3f}], K={tendency['n_clusters']} (descriptive)"
        )
    word = "clustered" if tendency["clustered"] else "not clustered"
    return (
        f"{what} {word}: tendency {tendency['score']:.3f} [{tendency['interval'][0]:.3f}, "
        f"{tendency['interval'][1]:.3f}], K={tendency['n_clusters']}; embedded {null['observed']:.3f} vs "
        f"uniform references {null['null_mean']:.3f} (95th percentile {null['null_quantile']:.3f})"
    )


def evidence_lines(result: dict) -> list[str]:
    """The evidence behind the verdict, one line each (after the verdict sentence)."""
    statistic = result["statistic"]
    lines = [
        f"{CASES[result['case']]}",
        _call(result["image_tendency"], "training images (ℓ1)"),
        _call(result["shape_tendency"], "training shapes (Chamfer excess)"),
        _call(result["output_tendency"], "predictions (Chamfer)"),
        f"statistic form: {statistic['form']}; groups: {statistic['n_groups']} training-shape clusters; "
        f"global gain {statistic['global']['value']:.2f}; "
        f"spread of the predictions {statistic['spread']:.2f} "
        f"of the truths'; permutation null {statistic['permutation_null']['mean']:+.2f} "
        f"(p = {statistic['permutation_null']['p_value']:.2g})",
    ]
    other = result.get("statistic_model_free")
    if other is not None:
        lines.append(
            f"model-free form of the statistic: {other['value']:.2f} [{other['interval'][0]:.2f}, "
            f"{other['interval'][1]:.2f}] → {other['verdict']}"
        )
    lines += _instrument_lines(result)
    memo = result["memorisation"]
    if memo["median"] is not None:
        lines.append(
            f"median memorisation {memo['median']:.3f} (1 = predictions are training shapes, "
            "0 = as close to them as the truth)"
        )
    sampling = result["sampling"]
    if sampling["measured"]:
        separation = (
            ""
            if sampling["separation"] is None
            else f"; training clusters {sampling['separation']:.3f} apart"
        )
        lines.append(
            f"sampling floor {sampling['chamfer']:.3f} Chamfer at {sampling['points']} points "
            f"(a perfect sample against its {sampling['dense_points']}-point dense truth){separation}"
        )
    else:
        lines.append("sampling floor not measured (no dense reference clouds: give meshes or denser clouds)")
    oracle = result["comparisons"]["oracle_nn"]["chamfer"]
    if oracle["ratio"] is not None:
        low, high = oracle["relative_interval"]
        lines.append(
            f"Chamfer of the model vs Oracle-NN: {oracle['relative_difference']:+.1%} "
            f"[{low:+.1%}, {high:+.1%}] "
            f"(excess {result['model']['excess']:.4f} vs {result['oracle_nn']['excess']:.4f})"
        )
    return lines


def _instrument_lines(result: dict) -> list[str]:
    """The dispersion score's ratio over the K sweep and the copying test, one line each."""
    lines = []
    ds = result.get("dispersion")
    if ds and ds["ratio"]:
        ratios = ", ".join(
            f"K={r['k']} {r['value']:.2f}" if r["value"] is not None else f"K={r['k']} –" for r in ds["ratio"]
        )
        lines.append(
            f"dispersion score DS(predictions) / DS(test truths): {ratios} "
            "(1 = as dispersed as the truths; below: gathered on fewer shapes)"
        )
    copy = result.get("copying")
    if copy and copy["statistic"] is not None:
        g = copy["global"]
        lines.append(
            f"copying test C_T {copy['statistic']:+.2f} over {copy['n_cells_used']} training clusters "
            f"(combined p = {copy['p_value']:.2g}); global Z_U {g['z_u']:+.2f} (p = {g['p_value']:.2g}); "
            "negative = predictions closer to the training shapes than the truths are"
        )
    elif copy:
        lines.append(f"copying test C_T undefined: {copy['undefined']}")
    return lines


def format_summary(result: dict) -> str:
    """A one-screen text summary: the verdict, why, then the evidence and the scores."""
    evidence = "\n".join(f"  - {line}" for line in result["evidence"])
    conventions = result["conventions"]
    threshold = conventions["thresholds"][0]
    unit = "of the bounding-box side" if conventions["thresholds_relative"] else "absolute"
    rows = "\n".join(
        f"  {name:12s} Chamfer {result[name]['chamfer']:.4f}  excess {result[name]['excess']:+.4f}  "
        f"F@{threshold:g} {result[name]['fscore'][0]:.3f}"
        for name in ("model", "oracle_nn", "retrieval", "clustering")
    )
    return (
        f"verdict: {result['verdict'].upper()}\n  {result['verdict_sentence']}\n\n"
        f"evidence:\n{evidence}\n\n{rows}\n"
        f"  (Chamfer: {conventions['chamfer']}, against the dense truth; excess: over the sampling floor; "
        f"F-score at {threshold:g} {unit})"
    )
