# A database StatefulSet scaled 1 → 2 → 3 with 12 CPU per replica on 8-CPU nodes.
NAMESPACES=(rec-data)
TARGET_KIND=StatefulSet TARGET_NS=rec-data TARGET_NAME=db TARGET=3 PROBLEM=resource
POOL='{"count": 3, "cpu": "8", "memory": "32Gi", "pods": 110}'
DESCRIPTION="StatefulSet db scaled 1 → 2 → 3 × 12 CPU / 8Gi on 3 × 8 CPU / 32Gi; target 3"
HARD="a StatefulSet (ordered pods) asking more CPU than any node has, with a scale-up history: no pod runs until CPU drops below 8"
db() { rec_workload StatefulSet rec-data db "$1" "$(rec_container db 12 8Gi ghcr.io/example/postgres:16)"; }
plan() {
  db 1
  sleep 6
  db 2
  sleep 6
  db 3
  sleep 5
}
