package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBashCompletion sources the generated completion in bash and
// completes command lines as bash would on TAB: commands, a command's
// flags, the values of -format, probe names after check (and in
// carbonio-health-check, only the light ones), a probe's flags, files for
// a flag's value.
func TestBashCompletion(t *testing.T) {
	bash := consumerTool(t, "bash")
	dir := t.TempDir()
	script := filepath.Join(dir, "carbonio-health")
	if err := os.WriteFile(script, []byte(bashCompletion()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "node.hcl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string   // the words, the last one being completed
		want []string // among the completions
		not  []string // not among them
	}{
		{"carbonio-health ''", []string{"run", "status", "check", "version", "generate"}, nil},
		{"carbonio-health pl", []string{"plan"}, []string{"run"}},
		{"carbonio-health plan -", []string{"-diff", "-json", "-config-dir", "-http-addr"}, []string{"-format"}},
		{"carbonio-health status -format ''", []string{"nagios", "json", "zabbix-discovery"}, nil},
		{"carbonio-health status -role m", []string{"mta", "mailstore"}, []string{"proxy"}},
		{"carbonio-health check ''", []string{"disk", "dns", "systemd", "-steady"}, nil},
		{"carbonio-health check d", []string{"dirsize", "disk", "dns"}, []string{"load"}},
		{"carbonio-health check -steady s", []string{"socket", "systemd"}, []string{"-steady"}},
		{"carbonio-health check disk --w", []string{"--warning"}, nil},
		{"carbonio-health check disk -", []string{"-w", "-c", "-p", "--used-warning", "-t", "--timeout"}, nil},
		{"carbonio-health check disk -p " + dir + "/no", []string{dir + "/node.hcl"}, nil},
		{"carbonio-health validate -config-dir " + dir + "/no", []string{dir + "/node.hcl"}, nil},
		{"carbonio-health-check ''", []string{"disk", "load", "users", "socket", "tcp", "dirsize"}, []string{"dns", "systemd"}},
		{"carbonio-health-check check l", []string{"load"}, nil},
		{"carbonio-health-check tcp -", []string{"-H", "-p", "-e"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			prog := `source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1))
f=$(complete -p "$1"); f=${f#*-F }; f=${f%% *}
"$f"; printf '%s\n' "${COMPREPLY[@]}"`
			args := append([]string{"-c", prog, "bash", script}, shellWords(tt.line)...)
			out, err := exec.Command(bash, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("completions %v lack %q", got, w)
				}
			}
			for _, w := range tt.not {
				if slices.Contains(got, w) {
					t.Errorf("completions %v hold %q", got, w)
				}
			}
		})
	}
}

// shellWords splits a test line on spaces; ” is an empty word.
func shellWords(line string) []string {
	var out []string
	for _, w := range strings.Split(line, " ") {
		if w == "''" {
			w = ""
		}
		out = append(out, w)
	}
	return out
}
