# An HPA (autoscaling/v2) drives a Deployment 2 → 6 → 4 by its bounds (no metrics on the cluster: the HPA
# controller clamps replicas into [min, max]); each pod asks 3 CPU on 4-CPU nodes.
NAMESPACES=(rec-hpa)
TARGET_NS=rec-hpa TARGET_NAME=web TARGET=3 PROBLEM=composite
POOL='{"count": 2, "cpu": "4", "memory": "8Gi", "pods": 110}'
DESCRIPTION="HPA-scaled web 2 → 6 → 4 × 3 CPU / 1Gi on 2 × 4 CPU / 8Gi; target 3"
HARD="a history the HPA controller wrote (2 → 6 → 4 by an autoscaling/v2 HPA's min/max bounds): scale-down moves every occurrence; 3 CPU pods fit one per node, so CPU and replicas both have to move"
plan() {
  rec_deploy rec-hpa web 2 3 1Gi
  rec_hpa rec-hpa web 2 10
  sleep 8
  rec_hpa rec-hpa web 6 10
  rec_wait_replicas rec-hpa web 6
  sleep 8
  rec_hpa rec-hpa web 2 4
  rec_wait_replicas rec-hpa web 4
  sleep 5
}
