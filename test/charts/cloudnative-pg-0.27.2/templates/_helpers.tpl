{{- define "cnpg.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{- define "cnpg.labels" -}}
app.kubernetes.io/name: {{ include "cnpg.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
