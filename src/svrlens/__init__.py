"""svrlens: does a single-view 3D reconstruction network reconstruct shapes, or recognise images?

Pipeline stages, each a subpackage, dependencies pointing downward:
``geometry`` (Chamfer / F-score kernels, distance matrices) ← ``tendency`` (silhouette,
affinity propagation, dispersion score) ← ``data`` ← ``models`` ← ``training`` ← ``evaluation``
← ``experiments`` ← ``report``; ``cli`` only parses and calls. The command line is ``svrlens``
(``svrlens --help``); the source of the science is Reconstruction or Recognition (paper secs. 2–4).

The public API, a line each (import from the subpackage, e.g. ``from svrlens.geometry import
pairwise_chamfer``; every function's docstring gives shapes, dtypes, units and errors):

svrlens.geometry
    FScore: F-score with its precision and recall, each of shape (B,) or (B, T).
    chamfer_distance: Symmetric Chamfer distance between two batches of point clouds.
    fscore: F-score of reconstructions ``x`` against ground truth ``y`` (eqs. 3–5).
    pairwise_chamfer: Chamfer distance (eq. 2) between every cloud of ``a`` and every cloud of ``b``.
    pairwise_fscore: F-score (eqs. 3–5) of every cloud of ``a`` (as reconstruction) against every cloud…
    pairwise_l1: Mean absolute pixel difference between every image of ``a`` and every image of ``b``.

svrlens.tendency
    AdaptiveAffinityPropagation: Affinity propagation that chooses its own preference and damping (Wang…
    AffinityPropagation: Affinity propagation (Frey & Dueck 2007) over a precomputed distance matrix.
    DispersionResult: The dispersion score of one matrix at one K.
    KMedoids: k-medoids on a precomputed (N, N) distance matrix: k-medoids++ seeds, FasterPAM swaps
    ScanStep: One preference of the adaptive scan.
    TendencyResult: Clustering tendency of one distance matrix.
    bootstrap_interval: Percentile interval of the mean of ``samples`` over seeded bootstrap resamples.
    classical_mds: Classical (Torgerson) multidimensional scaling of a distance matrix.
    clustering_tendency: Clustering tendency of a data set from its distance matrix (paper sec. 2.3, eq…
    dispersion_score: The dispersion score of ``distances`` (N, N) at K = ``k`` (see the module docstri…
    dispersion_sweep: :func:`dispersion_score` of an (N, N) matrix at every K of ``ks`` that it allows…
    null_tendency: Clustering tendency of a matrix against uniform references of the same scale.
    silhouette_samples: Silhouette of each sample (eq. 8) from a precomputed distance matrix.
    silhouette_score: Mean silhouette (the clustering tendency of eq. 10) over a precomputed distance m…

svrlens.data
    n_sets: How many sets ``family.1`` … ``family.n`` the family has (7, or 8 for the ``dispersion-*``…
    BuildConfig: How a mesh collection becomes a dataset (saved in the manifest's ``parameters``).
    Dataset: Images, point clouds and optional morph weights / labels / dense clouds, with named splits.
    MorphFamily: The shared mesh and base shapes of a family: vertices, clouds and images of any weights.
    SynthConfig: Parameters of a synthetic base dataset (saved in its manifest).
    build_dataset: Build a svrlens dataset from the mesh collection at ``meshes`` into ``out``.
    export_folder: Write samples ``indices`` (default: all) of a svrlens dataset as a user folder at ``…
    export_meshes: Write the meshes of the shapes with morph weights (B, K) as PLY/OBJ files via trimesh.
    generate: Generate a base dataset in memory (deterministic for a given config).
    load_dataset: Open a dataset directory; arrays are memory-mapped and (by default) hash-verified.
    load_folder: Read a user folder (see the module docstring) into an in-memory :class:`Dataset`.
    open_dataset: A svrlens dataset directory (manifest.json), a user folder (images/ + shapes/), or a…
    save_dataset: Write a dataset directory atomically; returns its path. ``extra`` adds keys to the
    subsample: Build set ``family.n`` from a base dataset; returns (arrays dict, splits, record).
    subsampled_dataset: Set ``family.n`` of ``base`` as an in-memory :class:`Dataset` (no path), with t…
    synthesize: Generate a base dataset and write it to ``out`` (see :mod:`svrlens.data.dataset`).
    write_family: Write the sets ``out_dir/<family>.1`` … ``<family>.n`` (n = :func:`n_sets`) and, with…
    write_set: Write set ``family.n`` of ``base`` as a dataset directory at ``path``; returns the path.

svrlens.models
    FoldingDecoder: Codewords (B, C) → point clouds (B, P, 3) by folding a fixed 2-D grid twice.
    ModelConfig: Architecture of :class:`ReconstructionNet` (validated when built: a bad value is a one…
    ReconstructionNet: Images (B, 3, H, W) → (points (B, P, 3), codewords (B, 512)); ``classify`` for t…
    ResNet18Encoder: ResNet-18 backbone: images (B, 3, H, W) → 512-d codewords (B, 512).
    ResidualBlock1d: Pre-activation residual MLP block over points: x + Conv(ReLU(BN(Conv(ReLU(BN(x)))))).
    build_model: Build the network described by ``config`` (defaults: the paper's).

svrlens.training
    RunResult: What a training run ends with. ``trained`` is False when the best validation Chamfer is
    TrainConfig: Everything a training run depends on (saved as ``config.json`` and in every checkpoint).
    evaluate: Mean Chamfer (eq. 2) and F-score at ``config.fscore_threshold`` on a split.
    images_from_path: (images uint8 (N, H, W, 3), indices (N,), names or None) from a dataset directory…
    load_checkpoint: Read a checkpoint without unpickling arbitrary objects; errors name the file.
    load_model: Model (eval mode, CPU), training config and input size (pixels) from ``best.pt`` / ``la…
    lr_at: Step decay: ×``lr_decay`` at each milestone (a fraction of the epochs) already passed.
    predict: Points (N, P, 3) and codewords (N, 512) as float32 numpy arrays, in eval mode.
    predict_images: Run a checkpoint on uint8 images (N, H, W, 3), N ≥ 1, of any size; returns (points…
    preset: A named preset with ``overrides`` applied (``None`` values are ignored).
    save_checkpoint: Write ``state`` (tensors, dicts, lists, numbers, strings only) to ``path`` atomica…
    save_predictions: Write ``points`` (N, P, 3), ``codewords`` (N, D), ``indices`` (N,) and optional `…
    to_input: uint8 (B, H, W, 3) → normalised float (B, 3, S, S) on ``device`` (bilinear, antialiased r…
    train: Train on ``dataset`` into ``out_dir``: a :class:`Dataset`, a svrlens dataset directory (made by

svrlens.evaluation
    EvaluationConfig: Settings of a diagnosis (see :func:`svrlens.evaluation.diagnose`), checked (types…
    References: Reference shapes: training-density clouds, dense clouds and sampling floors.
    cluster_medoids: Medoid (smallest summed distance to its cluster) of each cluster 0 … K−1.
    clustering: Recognition by construction: cluster the training shapes, classify the test image into a
    compare_scores: Compare per-sample scores of a model and a baseline on the same test samples.
    diagnose: Diagnose predictions of a model trained on ``train``, for the samples of ``test``.
    evaluate_run: Diagnose a svrlens training run (its ``predictions/test.npz`` on its own dataset).
    excess_matrix: (N, M) excess over the sampling floor: ``score − floor`` (the plain score where no f…
    format_summary: A one-screen text summary: the verdict, why, then the evidence and the scores.
    load_predictions: Predicted points (N_test, P, 3) in the test split's order, from
    make_references: References from centred clouds (M, P, 3) and dense clouds (M, D, 3) or None.
    oracle_nn: For each test shape, the training shape closest to its *ground truth* in Chamfer distance.
    per_sample_metrics: Chamfer (eq. 2) and F-score (eqs. 3–5) of each prediction against its ground tr…
    point_spacing: The outputs' point spacing: the median over shapes of the mean distance from a point of
    retrieval: The training shape paired with the nearest training image (ℓ1); indices (N_test,).
    run_diagnosis: Diagnose predictions for the test split of ``test_dataset`` (default: ``train_datase…
    shape_distances: (M, M) distances between reference shapes: the symmetrised excess
    thresholds_for: (N, T) absolute thresholds. ``relative``: fractions of each ground truth's bounding…
    within_cluster_gain: The verdict statistic (see the module docstring) and the verdict.

svrlens.experiments
    EvaluationConfig: Settings of a diagnosis (see :func:`svrlens.evaluation.diagnose`), checked (types…
    ExperimentSpec: A sweep: base datasets, the studies run on them, the evaluation, and the seeds; and
    FamilyStudy: Train one model per set ``family.n`` (n in ``sets``) with ``train``; figs. 3–5.
    LabelStudy: Train on a base dataset itself with no / weak / full class labels; figs. 6–7.
    ProcessExecutor: Runs ``jobs`` runs at once, each in a worker process of this machine with ``thread…
    RealData: Real shapes for a study: a built svrlens ``dataset`` directory, or a mesh collection
    RealStudy: Train on real shapes with each of ``modes`` (label use); sec. 4, figs. 6–8.
    RayExecutor: Runs as Ray tasks on a local instance or a cluster.
    RunSpec: One model: trained on set ``family.n`` of ``base`` (or on the base itself when ``family`` is
    SerialExecutor: Runs in this process, in order; per-run progress bars below the sweep's.
    check_paper_result: The paper's claims, tested on the sets present.
    execute_run: Train and diagnose one run (skipped if finished, resumed if killed); returns its record.
    load_spec: Read a spec from a JSON file (the layout of :meth:`ExperimentSpec.to_dict`).
    local_executor: The executor for this machine: ``jobs`` worker processes (default: one per core, di…
    prepare_data: The dataset directory a run trains on, generated if absent (deterministic from the sp…
    preset_spec: A fresh copy of a named preset.
    reproduce: Run every run of ``spec`` not yet finished under ``out``, then write ``out/results.json``.

svrlens.report
    build_report: Write ``out_dir/report.html`` from ``out_dir/results.json`` (and the figures under ``…
"""

__version__ = "0.2.0"  # 0.2: precise-BN batches and the did-not-train flag changed numbers
