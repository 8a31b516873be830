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

var update = flag.Bool("update", false, "rewrite the README's generated catalog table")

const (
	readmePath   = "../../README.md"
	catalogBegin = "<!-- catalog:begin (go test ./cmd/carbonio-health -run TestReadmeCatalog -update) -->\n"
	catalogEnd   = "<!-- catalog:end -->\n"
)

// TestReadmeCatalog keeps the README's catalog table equal to what `plan
// -markdown` prints for a node with every role, feature and folder.
func TestReadmeCatalog(t *testing.T) {
	plan, err := hcl.Load(hcl.Options{
		ConfigDirs: []string{filepath.Join("..", "..", "deploy", "dev")},
		PathExists: func(string) bool { return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	writeMarkdown(&table, plan)
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i, j := strings.Index(text, catalogBegin), strings.Index(text, catalogEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q … %q", catalogBegin, catalogEnd)
	}
	want := text[:i+len(catalogBegin)] + table.String() + text[j:]
	if want == text {
		return
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's catalog table is stale; run: go test ./cmd/carbonio-health -run TestReadmeCatalog -update")
}
