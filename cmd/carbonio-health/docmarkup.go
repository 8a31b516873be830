package main

import (
	"strings"
)

// The documentation texts of the commands (docs.go) and of the language
// (hcl.Reference) are written in a small subset of Markdown, so the same
// text reads well in hcl/README.md and renders into roff for the manual
// pages:
//
//   - paragraphs, separated by blank lines;
//   - "- " items (continuation lines indented); an item that starts with
//     "`term`: " is a definition (roff .TP);
//   - ``` fenced blocks, printed as they are;
//   - `code` inline, printed in bold.

// docBlock is one paragraph, list item, definition or code block.
type docBlock struct {
	kind string // "p", "item", "def", "code"
	term string // the definition's term
	text string // the text, lines joined (code: lines kept)
}

// parseDoc splits a text of the markup into blocks.
func parseDoc(text string) []docBlock {
	var out []docBlock
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "```"):
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				code = append(code, lines[i])
			}
			out = append(out, docBlock{kind: "code", text: strings.Join(code, "\n")})
		case strings.HasPrefix(line, "- "):
			item := []string{strings.TrimPrefix(line, "- ")}
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ") {
				i++
				item = append(item, strings.TrimSpace(lines[i]))
			}
			b := docBlock{kind: "item", text: strings.Join(item, " ")}
			if term, desc, ok := definition(b.text); ok {
				b.kind, b.term, b.text = "def", term, desc
			}
			out = append(out, b)
		default:
			para := []string{strings.TrimSpace(line)}
			for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" &&
				!strings.HasPrefix(lines[i+1], "- ") && !strings.HasPrefix(lines[i+1], "```") {
				i++
				para = append(para, strings.TrimSpace(lines[i]))
			}
			out = append(out, docBlock{kind: "p", text: strings.Join(para, " ")})
		}
	}
	return out
}

// definition splits an item "`a`, `b`: text" into its term ("a, b") and
// text: the item starts with code spans separated by ", " and then ": ".
func definition(item string) (term, text string, ok bool) {
	head, text, ok := strings.Cut(item, "`: ")
	if !ok || !strings.HasPrefix(head, "`") {
		return "", "", false
	}
	var names []string
	for _, n := range strings.Split(head+"`", "`, `") {
		n = strings.TrimPrefix(strings.TrimSuffix(n, "`"), "`")
		if n == "" || strings.Contains(n, "`") {
			return "", "", false
		}
		names = append(names, n)
	}
	return strings.Join(names, ", "), text, true
}

// roffEscape escapes text for roff: backslashes, double quotes, and
// hyphens as the minus signs of options (a word's hyphen prints the same).
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, `"`, `\(dq`) // literal in macro arguments too
	return strings.ReplaceAll(s, "-", `\-`)
}

// roffLine protects a line that would start with a control character.
func roffLine(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return `\&` + s
	}
	return s
}

// roffInline renders inline markup: `code` in bold.
func roffInline(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString(`\fB` + roffEscape(p) + `\fR`)
		} else {
			if i%2 == 1 { // an unpaired backquote
				b.WriteString("`")
			}
			b.WriteString(roffEscape(p))
		}
	}
	return roffLine(b.String())
}

// writeRoffDoc renders a text of the markup as roff paragraphs.
func writeRoffDoc(b *strings.Builder, text string) {
	for _, blk := range parseDoc(text) {
		switch blk.kind {
		case "p":
			b.WriteString(".PP\n" + roffInline(blk.text) + "\n")
		case "item":
			b.WriteString(".IP \\(bu 2\n" + roffInline(blk.text) + "\n")
		case "def":
			b.WriteString(".TP\n" + `\fB` + roffEscape(blk.term) + `\fR` + "\n" + roffInline(blk.text) + "\n")
		case "code":
			b.WriteString(".PP\n.RS 4\n.nf\n")
			for _, l := range strings.Split(blk.text, "\n") {
				b.WriteString(roffLine(roffEscape(l)) + "\n")
			}
			b.WriteString(".fi\n.RE\n")
		}
	}
}
