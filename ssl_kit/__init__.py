"""ssl_kit: reproduce "Demystifying Contrastive Self-Supervised Learning" (Purushwalkam & Gupta, 2020) and see
what contrastive models learn.

The packages, lowest layer first (a package imports only from its own layer or below; `tests/project/test_layers.py`):

- `common`, `errors`: devices, processes, locks, keys, atomic writes, the kit's error types;
- `data`: readers of the datasets on disk (image folders, videos, annotations);
- `world`, `video`: the procedural 3D world that stands in for every dataset; learning from video;
- `augment`, `models`, `evaluate`: augmentation policies, backbones and the one feature extractor, probes;
- `methods`, `batches`: MoCo, PIRL, SimCLR, supervised; what a training step draws its batch from;
- `runs`: a run's config, folder, checkpoints and resume;
- `training`, `invariance`: the training loop; the paper's invariance measure (neither imports the other);
- `study`, `findings`, `fidelity`: data by the study's names, grids, sweeps, the notebooks' harness and
  `reproduce`; the paper's findings checked on result rows; the world's fidelity card;
- `viz`, `pages`: figures, tables and widgets for the notebooks; the docs pages rendered from kept records.
"""
