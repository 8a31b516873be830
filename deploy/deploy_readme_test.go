package deploy_test

import (
	"os"
	"strings"
	"testing"
)

// readmeBlock returns the fenced code block that follows the marker
// `<!-- deploy test: name -->` in the README, so the blocks operators copy
// are the ones these tests run.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- deploy test: " + name + " -->\n"
	_, rest, ok := strings.Cut(string(readme), marker)
	if !ok {
		t.Fatalf("README.md lacks %q", marker)
	}
	if !strings.HasPrefix(rest, "```") {
		t.Fatalf("README.md: %q is not followed by a code block", marker)
	}
	_, body, _ := strings.Cut(rest, "\n")
	block, _, ok := strings.Cut(body, "\n```")
	if !ok {
		t.Fatalf("README.md: the code block after %q does not end", marker)
	}
	return block + "\n"
}
