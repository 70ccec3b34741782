# A cart service with a native sidecar (envoy, an init container with restartPolicy Always) and a classic sidecar
# container (log-agent); the app's memory was raised 2Gi → 3Gi.  Pod total: 3 + 1 + 6 = 10Gi on 8Gi nodes.
NAMESPACES=(rec-shop)
TARGET_NS=rec-shop TARGET_NAME=cart TARGET=3 PROBLEM=resource
POOL='{"count": 3, "cpu": "8", "memory": "8Gi", "pods": 110}'
DESCRIPTION="cart 3 × (app 1 CPU / 2→3Gi, log-agent 100m / 1Gi, native sidecar envoy 200m / 6Gi) on 3 × 8 CPU / 8Gi; target 3"
HARD="sidecars: the effective memory is the sum of the app, the classic sidecar and the native (restartable init) sidecar, 10Gi on 8Gi nodes; the app container alone is only 3Gi"
cart() { # APP_MEMORY
  rec_workload Deployment rec-shop cart 3 \
    "$(rec_container cart 1 "$1"; rec_container log-agent 100m 1Gi)" \
    "$(rec_container envoy 200m 6Gi ghcr.io/example/envoy:1.0; echo '  restartPolicy: Always')"
}
plan() {
  cart 2Gi
  sleep 8
  cart 3Gi
  sleep 5
}
