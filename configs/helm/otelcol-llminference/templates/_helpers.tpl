{{/* Name of every object: the release name when it already contains the chart name. */}}
{{- define "otelcol-llminference.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "otelcol-llminference.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "otelcol-llminference.labels" -}}
{{ include "otelcol-llminference.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "otelcol-llminference.secretName" -}}
{{- if eq .Values.output "otlp" -}}
{{- default (printf "%s-otlp" (include "otelcol-llminference.fullname" .)) .Values.otlp.existingSecret -}}
{{- else -}}
{{- default (printf "%s-remote-write" (include "otelcol-llminference.fullname" .)) .Values.remoteWrite.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* Whether the k8s_attributes overlay (k8s-attributes.yaml) is rendered and loaded. */}}
{{- define "otelcol-llminference.podMetadata" -}}
{{- if or .Values.podMetadata.labels .Values.podMetadata.annotations -}}true{{- end -}}
{{- end -}}

{{/* The tag (label or attribute name) of a pod label or annotation key. */}}
{{- define "otelcol-llminference.tag" -}}
{{- if eq .root.Values.output "otlp" -}}
{{- printf "k8s.pod.%s.%s" .kind .key -}}
{{- else -}}
{{- regexReplaceAll "[^a-zA-Z0-9_]" .key "_" -}}
{{- end -}}
{{- end -}}
