package hcl

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	hcl2 "github.com/hashicorp/hcl/v2"
)

var updateDoc = flag.Bool("update", false, "rewrite the language reference in hcl/README.md")

const (
	referenceDoc   = "README.md"
	referenceBegin = "<!-- language:begin (generated from hcl.Reference: go test ./hcl -run TestReferenceDoc -update) -->\n"
	referenceEnd   = "<!-- language:end -->\n"
)

// TestReferenceCoversSchema: Reference documents exactly the blocks and
// attributes the loader decodes.
func TestReferenceCoversSchema(t *testing.T) {
	docs := map[string][]AttrDoc{}
	for _, b := range Reference.Blocks {
		docs[strings.Fields(b.Header)[0]] = b.Attributes
	}
	names := func(as []AttrDoc) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	schemaNames := func(s *hcl2.BodySchema) []string {
		var out []string
		for _, a := range s.Attributes {
			out = append(out, a.Name)
		}
		return out
	}
	for _, tt := range []struct {
		block  string
		schema *hcl2.BodySchema
	}{
		{"node", nodeSchema}, {"feature", featureSchema}, {"role", roleSchema},
		{"service", serviceSchema}, {"check", checkSchema},
	} {
		got, want := names(docs[tt.block]), schemaNames(tt.schema)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Reference documents %s's attributes %v; the schema has %v", tt.block, got, want)
		}
	}
	var blocks []string
	for _, b := range fileSchema.Blocks {
		blocks = append(blocks, b.Type)
	}
	blocks = append(blocks, "service", "check")
	for _, b := range blocks {
		if _, ok := docs[b]; !ok {
			t.Errorf("Reference lacks the block %q", b)
		}
	}
}

// TestReferenceDoc keeps the language section of hcl/README.md equal to
// what Reference says.
func TestReferenceDoc(t *testing.T) {
	doc, err := os.ReadFile(referenceDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i, j := strings.Index(text, referenceBegin), strings.Index(text, referenceEnd)
	if i < 0 || j < i {
		t.Fatalf("hcl/%s lacks the markers %q … %q", referenceDoc, referenceBegin, referenceEnd)
	}
	want := text[:i+len(referenceBegin)] + referenceMarkdown() + text[j:]
	if want == text {
		return
	}
	if *updateDoc {
		if err := os.WriteFile(referenceDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the language reference in hcl/%s is stale; run: go test ./hcl -run TestReferenceDoc -update", referenceDoc)
}

// referenceMarkdown renders Reference as the Markdown of hcl/README.md.
func referenceMarkdown() string {
	var b strings.Builder
	b.WriteString("\n" + Reference.Intro + "\n")
	for _, blk := range Reference.Blocks {
		fmt.Fprintf(&b, "\n### `%s`", blk.Header)
		if blk.In != "" {
			fmt.Fprintf(&b, " (in `%s`)", strings.ReplaceAll(blk.In, ", ", "`, `"))
		}
		b.WriteString("\n\n" + blk.Doc + "\n")
		if len(blk.Attributes) == 0 {
			continue
		}
		b.WriteString("\n| attribute | type | default | |\n|---|---|---|---|\n")
		for _, a := range blk.Attributes {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", a.Name, a.Type, a.DefaultMarkup(), a.Doc)
		}
	}
	for _, s := range Reference.Sections {
		fmt.Fprintf(&b, "\n### %s\n\n%s\n", s.Title, s.Text)
	}
	b.WriteString("\n")
	return b.String()
}
