# A frontend scaled down by hand 6 → 3 → 1 (too few for its load): it has to come back up.
NAMESPACES=(rec-frontend)
TARGET_NS=rec-frontend TARGET_NAME=frontend TARGET=5 PROBLEM=replicas
POOL='{"count": 3, "cpu": "4", "memory": "8Gi", "pods": 110}'
DESCRIPTION="frontend scaled 6 → 3 → 1 × 500m / 512Mi on 3 × 4 CPU / 8Gi; target 5"
HARD="too few replicas after a scale-down history 6 → 3 → 1: scale-up must raise the steady state from 1 to 5, every earlier occurrence moving up by the same step"
plan() {
  rec_deploy rec-frontend frontend 6 500m 512Mi
  sleep 6
  rec_scale deployment rec-frontend frontend 3
  sleep 6
  rec_scale deployment rec-frontend frontend 1
  sleep 5
}
