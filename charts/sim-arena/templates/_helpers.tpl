{{/* Chart name, truncated to 63 characters. */}}
{{- define "sim-arena.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name used as the prefix of every object. Truncated to 52 characters so that suffixes such as
"-trace-sync" (11) still fit in 63.
*/}}
{{- define "sim-arena.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sim-arena.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object; pass a dict with "ctx" (root context) and "component". */}}
{{- define "sim-arena.labels" -}}
helm.sh/chart: {{ include "sim-arena.chart" .ctx }}
{{ include "sim-arena.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: sim-arena
{{- end -}}

{{- define "sim-arena.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sim-arena.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sim-arena.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sim-arena.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sim-arena.traceSync.fullname" -}}
{{- printf "%s-trace-sync" (include "sim-arena.fullname" .) -}}
{{- end -}}

{{- define "sim-arena.traceSync.serviceAccountName" -}}
{{- if .Values.traceSync.serviceAccount.create -}}
{{- default (include "sim-arena.traceSync.fullname" .) .Values.traceSync.serviceAccount.name -}}
{{- else -}}
{{- required "traceSync.serviceAccount.name is required when traceSync.serviceAccount.create is false" .Values.traceSync.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Lease used for leader election ("sim-arena-operator" for the default release name, the CLI's default). */}}
{{- define "sim-arena.leaseName" -}}
{{- printf "%s-operator" (include "sim-arena.fullname" .) -}}
{{- end -}}

{{/* repository[:tag][@digest]; pass a dict with "image" (values block) and "defaultTag". */}}
{{- define "sim-arena.imageRef" -}}
{{- $tag := default .defaultTag .image.tag | toString -}}
{{- $ref := .image.repository -}}
{{- if $tag -}}{{- $ref = printf "%s:%s" $ref $tag -}}{{- end -}}
{{- if .image.digest -}}{{- $ref = printf "%s@%s" $ref .image.digest -}}{{- end -}}
{{- $ref -}}
{{- end -}}

{{- define "sim-arena.image" -}}
{{- include "sim-arena.imageRef" (dict "image" .Values.image "defaultTag" .Chart.AppVersion) -}}
{{- end -}}

{{- define "sim-arena.leaderElect" -}}
{{- if and (not (gt (int .Values.sharding.shards) 0)) (or .Values.leaderElection.enabled (gt (int .Values.replicas) 1)) -}}true{{- end -}}
{{- end -}}

{{/* Restricted-profile container security context (non-root, read-only root filesystem, no capabilities). */}}
{{- define "sim-arena.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* hooks.nodeSelector as the operator's --hook-node-selector K=V,K=V. */}}
{{- define "sim-arena.hookNodeSelector" -}}
{{- $pairs := list -}}
{{- range $k, $v := . -}}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
