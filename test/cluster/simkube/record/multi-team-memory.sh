# Three teams share 3 nodes of 24Gi: checkout (team a), search (team b, memory raised 8Gi → 12Gi and scaled
# 2 → 4) and a ledger StatefulSet (team c).
NAMESPACES=(rec-team-a rec-team-b rec-team-c)
TARGET_NS=rec-team-b TARGET_NAME=search TARGET=4 PROBLEM=capacity
POOL='{"count": 3, "cpu": "8", "memory": "24Gi", "pods": 110}'
DESCRIPTION="search 2 → 4 × 1 CPU / 8Gi → 12Gi beside checkout (3 × 2 CPU / 4Gi) and StatefulSet ledger (2 × 1 CPU / 8Gi), on 3 × 8 CPU / 24Gi; target 4"
HARD="three namespaces compete for memory: 12Gi search pods fit an empty node but not all four beside the other teams' pods; memory must come down, not replicas"
search() { rec_workload Deployment rec-team-b search "$1" "$(rec_container search 1 "$2")"; }
plan() {
  rec_deploy rec-team-a checkout 3 2 4Gi
  rec_workload StatefulSet rec-team-c ledger 2 "$(rec_container ledger 1 8Gi)"
  search 2 8Gi
  sleep 6
  search 4 8Gi
  sleep 6
  search 4 12Gi
  sleep 5
}
