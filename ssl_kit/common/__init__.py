"""What every layer may use: the device and its processes (`device`, `distributed`), folder locks (`lock`),
atomic writes (`atomic`), result keys (`keys`), tidy tables on disk (`tidy`), names (`names`), ImageNet's normalisation (`imagenet`), the
CPU's peak FLOP/s (`cpu_peak`) and the lazy exports of a package's `__init__` (`lazy`). Nothing here knows a
model, a dataset or a run."""
