{{/* Name of the chart's objects: the release name, with "tugboat" added unless it is in it already. */}}
{{- define "tugboat.fullname" -}}
{{- if contains "tugboat" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-tugboat" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tugboat.serviceAccountName" -}}
{{- default (include "tugboat.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "tugboat.selectorLabels" -}}
app.kubernetes.io/name: tugboat
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end -}}

{{- define "tugboat.labels" -}}
{{ include "tugboat.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The rules of the generated ClusterRole or Role (files/role.yaml, from config/rbac/role.yaml). */}}
{{- define "tugboat.generatedRules" -}}
{{- range splitList "\n---\n" (.root.Files.Get "files/role.yaml") }}
{{- $doc := fromYaml . }}
{{- if eq (toString $doc.kind) $.kind }}
{{- toYaml $doc.rules | nindent 0 }}
{{- end }}
{{- end }}
{{- end -}}
