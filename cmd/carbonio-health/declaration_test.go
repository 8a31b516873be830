package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs a subcommand as the binary would and returns its exit code
// and outputs.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := dispatch(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeNode(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "node.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestValidateBrokenFiles tries the mistakes a new user makes: each gets a
// message pointing at the line, exit 1, and nothing on stdout.
func TestValidateBrokenFiles(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"typo in an attribute", "node {\n  roles = [\"mta\"]\n}\noverride \"mta\" \"smtp\" {\n  prot = 2525\n}\n",
			[]string{"node.hcl:5:3: error: Unsupported argument", "prot = 2525", `Did you mean "port"?`}},
		{"port of 70000", "override \"mta\" \"smtp\" {\n  port = 70000\n}\n",
			[]string{"node.hcl:2:10: error: Port out of range", "^^^^^"}},
		{"duplicated service", "role \"custom\" {\n  service \"web\" {}\n  service \"web\" {}\n}\n",
			[]string{"node.hcl:3:3: error: Duplicate service \"custom.web\"", "already declared at"}},
		{"unknown role", "node {\n  roles = [\"mailstor\"]\n}\n",
			[]string{"node.hcl:2:12: error: Unknown role", `"mailstore"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeNode(t, tt.src)
			for _, cmd := range []string{"validate", "plan"} {
				code, out, errOut := runCmd(t, cmd, "-config-dir", dir)
				if code != 1 || out != "" {
					t.Errorf("%s: exit %d, stdout %q; want 1 and nothing", cmd, code, out)
				}
				for _, w := range tt.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("%s: stderr does not contain %q:\n%s", cmd, w, errOut)
					}
				}
			}
		})
	}
}

func TestValidateAndPlanEverything(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "dev")
	code, out, errOut := runCmd(t, "validate", "-config-dir", dir)
	if code != 0 || !strings.Contains(out, "The declaration is valid: 45 services") {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "plan", "-config-dir", dir)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	for _, w := range []string{"carbonio-mta-smtp  127.0.0.1:25  [mta smtp]", `if feature "antivirus"`,
		"carbonio-health check socket -p /run/carbonio/mysql.sock -t 10", "Not registered (",
		"systemd targets, each checked with every unit it wants or requires (4):",
		"role directory  carbonio-directory-server.target", "role mailstore  carbonio-appserver.target",
		"role mta        carbonio-mta.target", "role proxy      carbonio-proxy.target",
		"carbonio-health check systemd -u carbonio-mta.target -t 10"} {
		if !strings.Contains(out, w) {
			t.Errorf("plan does not contain %q", w)
		}
	}
	code, out, _ = runCmd(t, "plan", "-json", "-config-dir", dir)
	var plan planJSON
	if err := json.Unmarshal([]byte(out), &plan); err != nil || code != 0 {
		t.Fatalf("plan -json: exit %d, %v", code, err)
	}
	if len(plan.Targets) != 4 || len(plan.ExcludedUnits) != 0 {
		t.Errorf("plan -json: targets %v, excluded units %v", plan.Targets, plan.ExcludedUnits)
	}
	if len(plan.Services) != 45 || plan.Services[0].Checks[0].Interval == "" {
		t.Errorf("plan -json: %d services", len(plan.Services))
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, errOut := runCmd(t, "registr")
	if code != 2 || !strings.Contains(errOut, `unknown command "registr"`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
