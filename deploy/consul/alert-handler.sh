#!/usr/bin/env bash
# consul watch handler for `-type=checks -state=critical`: Consul passes the
# JSON array of critical checks on stdin each time it changes. For every check
# owned by carbonio-health (ServiceID carbonio-health:…) it writes one line
#
#   CRITICAL node=<node> service=<service> check=<check id>: <output>
#
# to syslog (logger -t carbonio-health-alert), or to $ALERT_LOG when set, or to
# stderr; and, when $ALERT_WEBHOOK_URL is set, POSTs Consul's JSON there.
# Needs only bash, tr, sed and grep (no jq): it relies on the shape Consul
# writes (an array of flat check objects whose Definition is the only nested
# object), which holds for Consul 1.x.
set -euo pipefail

input=$(cat)

emit() {
	if [ -n "${ALERT_LOG:-}" ]; then
		printf '%s\n' "$1" >>"$ALERT_LOG"
	elif command -v logger >/dev/null 2>&1; then
		logger -t carbonio-health-alert -- "$1"
	else
		printf '%s\n' "$1" >&2
	fi
}

# field NAME OBJECT: the string value of "NAME" in one check object.
field() {
	printf '%s' "$2" | sed -nE 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)".*/\1/p' | head -1
}

# One check object per line: drop newlines, split the array between objects.
printf '%s' "$input" | tr -d '\n' | sed -E 's/\}[[:space:]]*,[[:space:]]*\{"/}\n{"/g' | while IFS= read -r obj || [ -n "$obj" ]; do
	case $(field ServiceID "$obj") in
	carbonio-health:*) ;;
	*) continue ;;
	esac
	[ "$(field Status "$obj")" = critical ] || continue
	emit "CRITICAL node=$(field Node "$obj") service=$(field ServiceName "$obj") check=$(field CheckID "$obj"): $(field Output "$obj")"
done

if [ -n "${ALERT_WEBHOOK_URL:-}" ]; then
	curl -fsS -m 10 -H 'Content-Type: application/json' --data-binary "$input" "$ALERT_WEBHOOK_URL" >/dev/null ||
		emit "alert-handler: POST to webhook failed"
fi
