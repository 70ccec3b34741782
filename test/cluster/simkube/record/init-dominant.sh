# An API whose init container (a schema migration) asks 6 CPU while the app asks 500m: the init container sets the
# pod's effective request; a rollout (new image) keeps it.
NAMESPACES=(rec-api)
TARGET_NS=rec-api TARGET_NAME=api TARGET=3 PROBLEM=resource
POOL='{"count": 3, "cpu": "4", "memory": "16Gi", "pods": 110}'
DESCRIPTION="api 3 × (init migrate 6 CPU, app 500m / 1Gi), rolled out twice, on 3 × 4 CPU / 16Gi; target 3"
HARD="a dominating init container: the pod's effective CPU is the init container's 6 CPU, so shrinking the app container (container mode) changes nothing; only the effective request moves it"
api() { # IMAGE_TAG
  rec_workload Deployment rec-api api 3 "$(rec_container api 500m 1Gi "ghcr.io/example/api:$1")" "$(rec_container migrate 6 1Gi ghcr.io/example/migrate:1.0)"
}
plan() {
  api 1.0
  sleep 8
  api 1.1
  sleep 8
  api 1.2
  sleep 5
}
