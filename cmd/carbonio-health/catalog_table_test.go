package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/hcl"
)

var update = flag.Bool("update", false, "rewrite the generated catalog table of hcl/README.md")

const (
	catalogDoc   = "../../hcl/README.md"
	catalogBegin = "<!-- catalog:begin (go test ./cmd/carbonio-health -run TestCatalogTable -update) -->\n"
	catalogEnd   = "<!-- catalog:end -->\n"
)

// TestCatalogTable keeps the catalog table of hcl/README.md equal to what
// `plan -markdown` prints for a node with every role, feature and folder.
func TestCatalogTable(t *testing.T) {
	plan, err := hcl.Load(hcl.Options{
		ConfigDirs: []string{filepath.Join("..", "..", "deploy", "dev")},
		PathExists: func(string) bool { return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	writeMarkdown(&table, plan)
	doc, err := os.ReadFile(catalogDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i, j := strings.Index(text, catalogBegin), strings.Index(text, catalogEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q … %q", catalogDoc, catalogBegin, catalogEnd)
	}
	want := text[:i+len(catalogBegin)] + table.String() + text[j:]
	if want == text {
		return
	}
	if *update {
		if err := os.WriteFile(catalogDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the catalog table of %s is stale; run: go test ./cmd/carbonio-health -run TestCatalogTable -update", catalogDoc)
}
