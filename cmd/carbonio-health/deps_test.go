package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDaemonLeavesOutTestLibraries: packages that only tests should link
// stay out of the binary. go-cmp came in through hcl/v2's gohcl (which
// imports hclwrite): its package initialisation compiles a regular
// expression that the daemon then held for good (0.5 MB of a mailstore
// daemon's heap), and every `carbonio-health check` exec paid it.
// hcl.decodeExpression is gohcl.DecodeExpression without it.
func TestDaemonLeavesOutTestLibraries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, banned := range []string{"github.com/google/go-cmp/", "github.com/hashicorp/hcl/v2/gohcl", "github.com/hashicorp/hcl/v2/hclwrite"} {
		for _, p := range strings.Fields(string(out)) {
			if strings.HasPrefix(p+"/", banned) || strings.HasPrefix(p, banned) {
				t.Errorf("the daemon links %s", p)
			}
		}
	}
}
