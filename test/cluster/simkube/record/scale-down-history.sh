# A worker Deployment scaled by hand 2 → 8 → 12 → 10 on a pool where 8 of its pods fit.
NAMESPACES=(rec-worker)
TARGET_NS=rec-worker TARGET_NAME=worker TARGET=4 PROBLEM=replicas
POOL='{"count": 2, "cpu": "8", "memory": "16Gi", "pods": 110}'
DESCRIPTION="worker scaled 2 → 8 → 12 → 10 × 2 CPU / 2Gi on 2 × 8 CPU / 16Gi; target 4"
HARD="scale-down on a history that started at 2: the early occurrence clamps at 1 while the steady state keeps moving, so a shift-everything rule would block after one step"
plan() {
  rec_deploy rec-worker worker 2 2 2Gi
  sleep 6
  rec_scale deployment rec-worker worker 8
  sleep 6
  rec_scale deployment rec-worker worker 12
  sleep 6
  rec_scale deployment rec-worker worker 10
  sleep 5
}
