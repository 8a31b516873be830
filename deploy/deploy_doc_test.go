package deploy_test

import (
	"os"
	"strings"
	"testing"
)

// integrationsDoc is the document of the monitoring integrations
// (deploy/README.md), whose blocks operators copy.
const integrationsDoc = "README.md"

// docBlock returns the fenced code block that follows the marker
// `<!-- deploy test: name -->` in deploy/README.md, so the blocks operators
// copy are the ones these tests run.
func docBlock(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile(integrationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- deploy test: " + name + " -->\n"
	_, rest, ok := strings.Cut(string(doc), marker)
	if !ok {
		t.Fatalf("deploy/%s lacks %q", integrationsDoc, marker)
	}
	if !strings.HasPrefix(rest, "```") {
		t.Fatalf("deploy/%s: %q is not followed by a code block", integrationsDoc, marker)
	}
	_, body, _ := strings.Cut(rest, "\n")
	block, _, ok := strings.Cut(body, "\n```")
	if !ok {
		t.Fatalf("deploy/%s: the code block after %q does not end", integrationsDoc, marker)
	}
	return block + "\n"
}
