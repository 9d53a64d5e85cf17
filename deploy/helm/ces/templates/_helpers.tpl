{{/* The release's name for CES objects, at most 52 characters (Jobs add suffixes). */}}
{{- define "ces.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ces.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ces.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* ces.secret: the name of one concern's Secret, existing or the chart's. */}}
{{- define "ces.secret" -}}
{{- $s := index .root.Values.secrets .key -}}
{{- if $s.existingSecret -}}{{ $s.existingSecret }}{{- else -}}{{ include "ces.fullname" .root }}-{{ .key | kebabcase }}{{- end -}}
{{- end -}}

{{- define "ces.image" -}}
{{ .image }}:{{ .root.Values.images.tag | default .root.Chart.AppVersion }}
{{- end -}}

{{/* ces.env: what every CES container needs: the shared settings, Redis, and how to reach Temporal. */}}
{{- define "ces.env" -}}
- name: REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ include "ces.secret" (dict "root" . "key" "redis") }}, key: url}}
{{- if .Values.redis.sentinelMaster }}
- name: REDIS_SENTINEL_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ include "ces.secret" (dict "root" . "key" "redis") }}, key: sentinel-password, optional: true}}
{{- end }}
{{- if .Values.temporal.apiKey }}
- name: TEMPORAL_API_KEY
  valueFrom: {secretKeyRef: {name: {{ include "ces.secret" (dict "root" . "key" "temporal") }}, key: api-key}}
{{- end }}
{{- if has "openexchangerates" .Values.providers }}
- name: FX_API_KEY
  valueFrom: {secretKeyRef: {name: {{ include "ces.secret" (dict "root" . "key" "providers") }}, key: fx-api-key}}
{{- end }}
{{- if has "fred" .Values.providers }}
- name: FX_FRED_API_KEY
  valueFrom: {secretKeyRef: {name: {{ include "ces.secret" (dict "root" . "key" "providers") }}, key: fred-api-key}}
{{- end }}
{{- end -}}

{{- define "ces.temporalVolumeMounts" -}}
{{- if or .Values.temporal.tls.ca .Values.temporal.mtls }}
- name: temporal
  mountPath: /etc/ces/temporal
  readOnly: true
{{- end }}
{{- end -}}

{{- define "ces.temporalVolumes" -}}
{{- if or .Values.temporal.tls.ca .Values.temporal.mtls }}
- name: temporal
  secret:
    secretName: {{ include "ces.secret" (dict "root" . "key" "temporal") }}
    defaultMode: 0400
    items:
    {{- if .Values.temporal.tls.ca }}
      - {key: ca.crt, path: ca.crt}
    {{- end }}
    {{- if .Values.temporal.mtls }}
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
    {{- end }}
{{- end }}
{{- end -}}

{{- define "ces.pod" -}}
automountServiceAccountToken: false
securityContext: {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* ces.egress: the egress rules of networkPolicy.egress, with DNS, when any are given (none: egress is not restricted). */}}
{{- define "ces.egress" -}}
{{- with .Values.networkPolicy.egress }}
egress:
  # Names must resolve: DNS to the cluster's resolver.
  - to:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports:
      - {port: 53, protocol: UDP}
      - {port: 53, protocol: TCP}
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
{{/* ces.policyTypes: Ingress always; Egress when networkPolicy.egress restricts it. */}}
{{- define "ces.policyTypes" -}}
policyTypes: [Ingress{{ if .Values.networkPolicy.egress }}, Egress{{ end }}]
{{- end -}}
