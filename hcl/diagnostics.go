package hcl

import (
	"bytes"
	"fmt"
	"strings"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// DiagnosticsError is a declaration that does not load. Its Error text puts
// each diagnostic on a compiler-style line (file:line:col: error: summary),
// then the offending source line with the text at fault underlined, then
// the detail.
type DiagnosticsError struct {
	Diags hcl2.Diagnostics
	Files map[string]*hcl2.File
}

func (e *DiagnosticsError) Error() string {
	var b strings.Builder
	for i, d := range e.Diags {
		if i > 0 {
			b.WriteByte('\n')
		}
		e.write(&b, d)
	}
	return strings.TrimRight(b.String(), "\n")
}

func (e *DiagnosticsError) write(b *strings.Builder, d *hcl2.Diagnostic) {
	sev := "error"
	if d.Severity == hcl2.DiagWarning {
		sev = "warning"
	}
	if d.Subject == nil {
		fmt.Fprintf(b, "%s: %s\n", sev, d.Summary)
	} else {
		s := d.Subject
		fmt.Fprintf(b, "%s:%d:%d: %s: %s\n", s.Filename, s.Start.Line, s.Start.Column, sev, d.Summary)
		e.writeSource(b, *s)
	}
	if d.Detail != "" {
		fmt.Fprintf(b, "  %s\n", d.Detail)
	}
}

// writeSource prints the subject's first line and underlines the subject.
func (e *DiagnosticsError) writeSource(b *strings.Builder, r hcl2.Range) {
	f, ok := e.Files[r.Filename]
	if !ok || f == nil {
		return
	}
	lines := bytes.Split(f.Bytes, []byte("\n"))
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return
	}
	line := strings.TrimRight(string(lines[r.Start.Line-1]), "\r")
	runes := []rune(line)
	start := r.Start.Column - 1
	end := r.End.Column - 1
	if r.End.Line != r.Start.Line || end > len(runes) {
		end = len(runes)
	}
	if start < 0 || start > len(runes) {
		start = 0
	}
	if end <= start {
		end = start + 1
	}
	gutter := fmt.Sprintf("%5d | ", r.Start.Line)
	fmt.Fprintf(b, "%s%s\n", gutter, line)
	pad := make([]rune, start)
	for i := range pad {
		pad[i] = ' '
		if runes[i] == '\t' {
			pad[i] = '\t'
		}
	}
	fmt.Fprintf(b, "%s%s%s\n", strings.Repeat(" ", len(gutter)-2)+"| ", string(pad), strings.Repeat("^", end-start))
}

// pos formats a range's start as file:line:col, the form every message uses.
func pos(r hcl2.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
