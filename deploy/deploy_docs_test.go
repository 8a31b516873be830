package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docs are the project's Markdown documents (README.md points at each).
var docs = []string{
	"../README.md",
	"README.md",
	"bench/README.md",
	"package/README.md",
	"prometheus/README.md",
	"../hcl/README.md",
	"../checkscript/README.md",
	"../registrar/RELIABILITY.md",
	"../cmd/README.md",
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6} +(.+)$`)
	mdFence   = regexp.MustCompile("(?s)```.*?```")
)

// TestDocLinks: every relative link of the documents names a file that
// exists and, after #, a heading of it (GitHub's anchors), so moving a
// section never leaves a reader at a dead link.
func TestDocLinks(t *testing.T) {
	for _, doc := range docs {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, m := range mdLink.FindAllStringSubmatch(mdFence.ReplaceAllString(string(text), ""), -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(link, "#")
			target := doc
			if path != "" {
				target = filepath.Join(filepath.Dir(doc), path)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s: link %q: %v", doc, link, err)
				continue
			}
			if frag != "" && !anchors(t, target)[frag] {
				t.Errorf("%s: link %q: %s has no heading with that anchor", doc, link, target)
			}
		}
	}
}

// anchors returns the GitHub anchors of a Markdown file's headings.
func anchors(t *testing.T, path string) map[string]bool {
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(mdFence.ReplaceAllString(string(text), ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(m[1])) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}
