# Batch work (a CronJob every minute, a backfill Job of 3 parallel 4-CPU pods) in one namespace and a web
# Deployment in another, on 3 nodes of 8 CPU: 3-CPU web pods only partly fit beside the batch pods.
NAMESPACES=(rec-batch rec-web)
TARGET_NS=rec-web TARGET_NAME=web TARGET=4 PROBLEM=capacity
POOL='{"count": 3, "cpu": "8", "memory": "16Gi", "pods": 110}'
DESCRIPTION="web 4 × 3 CPU / 2Gi beside a CronJob (3 CPU) and a Job (3 × 4 CPU) in rec-batch, on 3 × 8 CPU / 16Gi; target 4"
HARD="contention across namespaces: the pods fit a node but not beside the batch pods (fragmented free CPU), so web's CPU must shrink although each pod fits an empty node"
plan() {
  rec_job rec-batch backfill 3 6 4 2Gi
  rec_cronjob rec-batch report 3 1Gi
  sleep 3
  rec_deploy rec-web web 2 3 2Gi
  sleep 5
  rec_scale deployment rec-web web 4
  rec_wait_cron rec-batch report
  sleep 5
}
