# A node agent DaemonSet takes 3 CPU of every 8-CPU node; an api Deployment in another namespace is scaled 3 → 6.
NAMESPACES=(rec-ops rec-app)
TARGET_NS=rec-app TARGET_NAME=api TARGET=6 PROBLEM=capacity
POOL='{"count": 3, "cpu": "8", "memory": "16Gi", "pods": 110}'
DESCRIPTION="api scaled 3 → 6 × 3 CPU / 2Gi beside a DaemonSet node-agent (3 CPU / 4Gi per node) on 3 × 8 CPU / 16Gi; target 6"
HARD="a DaemonSet takes a slice of every node: 5 CPU left per node holds one 3-CPU api pod, so 6 replicas need CPU ≤ 2.5 although a pod fits an empty node"
plan() {
  rec_daemonset rec-ops node-agent 3 4Gi
  sleep 3
  rec_deploy rec-app api 3 3 2Gi
  sleep 6
  rec_scale deployment rec-app api 6
  sleep 5
}
