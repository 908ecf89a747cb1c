{{/* The chart's name, or nameOverride. */}}
{{- define "wrg.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name (names of all objects); the release name alone when it already contains the chart name. */}}
{{- define "wrg.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A name derived from the full name with a suffix, within 63 characters. */}}
{{- define "wrg.suffixed" -}}
{{- $full := include "wrg.fullname" .root }}
{{- printf "%s-%s" ($full | trunc (int (sub 62 (len .suffix))) | trimSuffix "-") .suffix }}
{{- end }}

{{- define "wrg.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable for the release's lifetime (Deployment selectors are immutable). */}}
{{- define "wrg.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wrg.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard labels of every object. */}}
{{- define "wrg.labels" -}}
helm.sh/chart: {{ include "wrg.chart" . }}
{{ include "wrg.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: waiting-room-gateway
{{- end }}

{{- define "wrg.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "wrg.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "wrg.configMapName" -}}
{{- include "wrg.suffixed" (dict "root" . "suffix" "config") }}
{{- end }}

{{- define "wrg.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else }}
{{- include "wrg.suffixed" (dict "root" . "suffix" "secrets") }}
{{- end }}
{{- end }}

{{- define "wrg.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the ConfigMap is mounted (a directory, so the kubelet's atomic ..data swap reaches the pod). */}}
{{- define "wrg.configDir" -}}/etc/waiting-room{{- end }}
{{- define "wrg.configFile" -}}appsettings.Production.json{{- end }}

{{/* The content of appsettings.Production.json. */}}
{{- define "wrg.configJson" -}}
{{- .Values.config | toPrettyJson }}
{{- end }}

{{/* The Secret's data (env variable name -> value), when the chart makes the Secret. */}}
{{- define "wrg.secretData" -}}
{{- $s := .Values.secrets }}
ConnectionStrings__Redis: {{ $s.redisConnectionString | b64enc | quote }}
{{- range $i, $k := $s.signingKeys }}
WaitingRoom__SigningKeys__{{ $i }}__Id: {{ $k.id | b64enc | quote }}
WaitingRoom__SigningKeys__{{ $i }}__Secret: {{ $k.secret | b64enc | quote }}
{{- end }}
{{- range $i, $k := $s.identityKeys }}
WaitingRoom__Identity__Keys__{{ $i }}__Id: {{ $k.id | b64enc | quote }}
WaitingRoom__Identity__Keys__{{ $i }}__Secret: {{ $k.secret | b64enc | quote }}
{{- end }}
{{- range $i, $k := $s.adminKeys }}
Admin__Keys__{{ $i }}__Id: {{ $k.id | b64enc | quote }}
Admin__Keys__{{ $i }}__Sha256: {{ $k.sha256 | lower | b64enc | quote }}
{{- end }}
{{- end }}

{{/* The ConfigMap checksum that rolls pods, per configRollout.mode ("" = none). */}}
{{- define "wrg.configChecksum" -}}
{{- $mode := .Values.configRollout.mode }}
{{- if eq $mode "always" }}
{{- include "wrg.configJson" . | sha256sum }}
{{- else if eq $mode "restartSections" }}
{{- $live := list }}
{{- range .Values.configRollout.liveSections }}{{ $live = append $live (lower .) }}{{ end }}
{{- $restart := dict }}
{{- range $k, $v := .Values.config }}
{{- if not (has (lower $k) $live) }}{{ $_ := set $restart $k $v }}{{ end }}
{{- end }}
{{- $restart | toJson | sha256sum }}
{{- end }}
{{- end }}

{{/* Seconds in a TimeSpan string "[d.]hh:mm:ss[.fff]", a fraction rounded up. */}}
{{- define "wrg.timespanSeconds" -}}
{{- $re := "^(?:([0-9]+)\\.)?([0-9]+):([0-9]+):([0-9]+)(?:\\.([0-9]+))?$" }}
{{- $d := regexReplaceAll $re . "${1}" | default "0" | atoi }}
{{- $h := regexReplaceAll $re . "${2}" | atoi }}
{{- $m := regexReplaceAll $re . "${3}" | atoi }}
{{- $s := regexReplaceAll $re . "${4}" | atoi }}
{{- $f := regexReplaceAll $re . "${5}" }}
{{- add (mul $d 86400) (mul $h 3600) (mul $m 60) $s (ternary 0 1 (eq $f "")) }}
{{- end }}

{{/*
Refuses secrets in `config`: walks it (keys case-insensitively, like .NET configuration) and fails on a
section the chart owns or that holds secrets, a key named like a secret, or a value that carries one.
*/}}
{{- define "wrg.scanConfig" -}}
{{- $path := .path }}
{{- $value := .value }}
{{- if kindIs "map" $value }}
{{- range $k, $child := $value }}
{{- $p := ternary $k (printf "%s:%s" $path $k) (eq $path "") }}
{{- $lp := lower $p }}
{{- if has $lp (list "connectionstrings" "admin") }}
{{- fail (printf "config:%s must not be in `config` (the ConfigMap): put secrets in `secrets` (or existingSecret), see README 'Secrets'. %s" $p (include "wrg.secretHint" $lp)) }}
{{- end }}
{{- if has $lp (list "forwardedheaders" "telemetry" "shutdown" "gateway") }}
{{- fail (printf "config:%s is set by the chart as env variables: use the values %s instead" $p (get (dict "forwardedheaders" "forwardedHeaders.*" "telemetry" "telemetry.*" "shutdown" "shutdown.* and preStop" "gateway" "(none: Gateway:ConfigFile is the mounted ConfigMap)") $lp)) }}
{{- end }}
{{- if or (eq $lp "waitingroom:identity:keys") (regexMatch "(?i)(secret|password|passwd|connectionstring|signingkey|apikey|privatekey|sha256)" $k) }}
{{- fail (printf "config:%s looks like a secret and must not be in `config` (the ConfigMap): put it in `secrets` (or existingSecret), see README 'Secrets'. %s" $p (include "wrg.secretHint" $lp)) }}
{{- end }}
{{- include "wrg.scanConfig" (dict "path" $p "value" $child) }}
{{- end }}
{{- else if kindIs "slice" $value }}
{{- range $i, $child := $value }}
{{- include "wrg.scanConfig" (dict "path" (printf "%s:%d" $path $i) "value" $child) }}
{{- end }}
{{- else if kindIs "string" $value }}
{{- if regexMatch "(?i)(password|passwd|pwd)\\s*=|-----BEGIN [A-Z ]*PRIVATE KEY|[a-z][a-z0-9+.-]*://[^/@\\s]*:[^/@\\s]+@" $value }}
{{- fail (printf "config:%s holds a credential (password=, a private key or user:password@ in a URL): put it in `secrets` (or existingSecret), see README 'Secrets'" $path) }}
{{- end }}
{{- end }}
{{- end }}

{{- define "wrg.secretHint" -}}
{{- if hasPrefix "connectionstrings" . }}Use secrets.redisConnectionString (ConnectionStrings__Redis).
{{- else if hasPrefix "waitingroom:signingkeys" . }}Use secrets.signingKeys (WaitingRoom__SigningKeys__<n>__Id/__Secret).
{{- else if hasPrefix "waitingroom:identity" . }}Use secrets.identityKeys (WaitingRoom__Identity__Keys__<n>__Id/__Secret).
{{- else if hasPrefix "admin" . }}Use secrets.adminKeys (Admin__Keys__<n>__Id/__Sha256) and admin.separatePort (Admin__Urls).
{{- else if hasPrefix "store:connectionstring" . }}Use secrets.redisConnectionString (ConnectionStrings__Redis).
{{- end }}
{{- end }}

{{/* Checks across values that the schema cannot express. Included by the Deployment, so every render runs it. */}}
{{- define "wrg.validate" -}}
{{- $v := .Values }}
{{- if $v.existingSecret }}
{{- if or $v.secrets.redisConnectionString $v.secrets.signingKeys $v.secrets.identityKeys $v.secrets.adminKeys }}
{{- fail "existingSecret is set, so `secrets` would be ignored: put those values in the existing Secret, or unset existingSecret" }}
{{- end }}
{{- else }}
{{- if not $v.secrets.redisConnectionString }}
{{- fail "A Redis connection string is required: set secrets.redisConnectionString (becomes ConnectionStrings__Redis) or existingSecret (a Secret holding ConnectionStrings__Redis). The production image has no embedded store." }}
{{- end }}
{{- if not $v.secrets.signingKeys }}
{{- fail "At least one admission-token signing key is required (Production refuses to start without one): set secrets.signingKeys[0].id and .secret (base64 of 32+ bytes, e.g. `openssl rand -base64 32`), or existingSecret holding WaitingRoom__SigningKeys__0__Id and __Secret." }}
{{- end }}
{{- end }}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%d) must not be greater than autoscaling.maxReplicas (%d)" (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- end }}
{{- if $v.podDisruptionBudget.enabled }}
{{- $max := $v.podDisruptionBudget.maxUnavailable }}
{{- $min := $v.podDisruptionBudget.minAvailable }}
{{- if or (and (kindIs "invalid" $max) (kindIs "invalid" $min)) (and (not (kindIs "invalid" $max)) (not (kindIs "invalid" $min))) }}
{{- fail "podDisruptionBudget: set exactly one of maxUnavailable and minAvailable (the other null)" }}
{{- end }}
{{- end }}
{{- $preStop := 0 }}
{{- if eq $v.preStop.mode "sleep" }}
{{- $preStop = int $v.preStop.seconds }}
{{- if semverCompare "<1.30.0-0" .Capabilities.KubeVersion.Version }}
{{- fail (printf "preStop.mode=sleep needs Kubernetes 1.30 or later (this is %s): use preStop.mode=exec with an image that has a shell, or preStop.mode=none and a longer shutdown.drainDelay" .Capabilities.KubeVersion.Version) }}
{{- end }}
{{- end }}
{{- $drain := include "wrg.timespanSeconds" $v.shutdown.drainDelay | int }}
{{- $timeout := include "wrg.timespanSeconds" $v.shutdown.timeout | int }}
{{- if lt (int $v.terminationGracePeriodSeconds) (add $preStop $drain $timeout) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must cover preStop (%ds) + shutdown.drainDelay (%ds) + shutdown.timeout (%ds) = %ds, or in-flight requests are killed" (int $v.terminationGracePeriodSeconds) $preStop $drain $timeout (add $preStop $drain $timeout)) }}
{{- end }}
{{- if and $v.serviceMonitor.enabled (eq $v.serviceMonitor.port "admin") (not $v.admin.separatePort) }}
{{- fail "serviceMonitor.port=admin needs admin.separatePort=true (there is no admin port otherwise)" }}
{{- end }}
{{- if and $v.admin.separatePort (eq (int $v.admin.port) (int $v.containerPorts.http)) }}
{{- fail "admin.port must differ from containerPorts.http" }}
{{- end }}
{{- if $v.ingress.enabled }}
{{- if not $v.admin.separatePort }}
{{- fail "ingress.enabled needs admin.separatePort=true: with the admin API on the http port, the Ingress would route /admin/v1 to the public internet" }}
{{- end }}
{{- range $v.ingress.hosts }}
{{- range .paths }}
{{- if hasPrefix "/admin" (lower .path) }}
{{- fail (printf "ingress path %q: the Ingress never routes /admin" .path) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if $v.networkPolicy.enabled }}
{{- $e := $v.networkPolicy.egress }}
{{- if not (or $e.redis.cidrs $e.redis.namespaces) }}
{{- fail "networkPolicy.enabled: set networkPolicy.egress.redis.cidrs or .namespaces, or the gateway cannot reach Redis" }}
{{- end }}
{{- if not (or $e.backends.cidrs $e.backends.namespaces) }}
{{- fail "networkPolicy.enabled: set networkPolicy.egress.backends.cidrs or .namespaces, or the gateway cannot reach the backends" }}
{{- end }}
{{- end }}
{{- include "wrg.scanConfig" (dict "path" "" "value" $v.config) }}
{{- end }}
