#!/usr/bin/env bash
# Stop the one-node SLURM cluster `start_slurm.sh` started (slurmd, slurmctld, munged); nothing else is touched.
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
for daemon in slurmd slurmctld munged; do
  $SUDO pkill -x "$daemon" 2>/dev/null || true
done
echo "slurm: stopped"
