# A cache StatefulSet whose memory request was raised twice, 4Gi → 8Gi → 20Gi, past its 16Gi nodes.
NAMESPACES=(rec-cache)
TARGET_KIND=StatefulSet TARGET_NS=rec-cache TARGET_NAME=cache TARGET=3 PROBLEM=resource
POOL='{"count": 3, "cpu": "8", "memory": "16Gi", "pods": 110}'
DESCRIPTION="StatefulSet cache 3 × 1 CPU with memory 4Gi → 8Gi → 20Gi on 3 × 8 CPU / 16Gi; target 3"
HARD="a request history that grew past the node: memory actions shift every occurrence, the early 4Gi one clamps at the floor while the 20Gi steady state comes down"
cache() { rec_workload StatefulSet rec-cache cache 3 "$(rec_container cache 1 "$1" ghcr.io/example/redis:7)"; }
plan() {
  cache 4Gi
  sleep 6
  cache 8Gi
  sleep 6
  cache 20Gi
  sleep 5
}
