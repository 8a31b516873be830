package checkscript

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseOutput returns the performance data of a plugin's output: the text
// after the first '|' of the first line, and after the first '|' of the
// long output (the following lines), as the plugin guidelines place it.
// Items that do not parse are skipped; the error names the first of them,
// so a caller may log it and keep the others.
func ParseOutput(output string) ([]Perfdata, error) {
	first, long, _ := strings.Cut(output, "\n")
	var text []string
	if _, p, ok := strings.Cut(first, "|"); ok {
		text = append(text, p)
	}
	if _, p, ok := strings.Cut(long, "|"); ok {
		text = append(text, p)
	}
	var all []Perfdata
	var firstErr error
	for _, t := range text {
		pd, err := ParsePerfdata(t)
		all = append(all, pd...)
		if firstErr == nil {
			firstErr = err
		}
	}
	return all, firstErr
}

// ParsePerfdata parses space-separated performance data items,
// `'label'=value[UOM];warn;crit;min;max`, the inverse of Perfdata.String.
// A value "U" gives NoValue. Items that do not parse are skipped and the
// first is reported in the error.
func ParsePerfdata(s string) ([]Perfdata, error) {
	var out []Perfdata
	var firstErr error
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return out, firstErr
		}
		label, rest, err := cutLabel(s)
		if err != nil {
			// Unterminated quote: nothing after it can be delimited.
			if firstErr == nil {
				firstErr = err
			}
			return out, firstErr
		}
		item, tail, _ := strings.Cut(rest, " ")
		p, err := parseItem(label, item)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
		} else {
			out = append(out, p)
		}
		s = tail
	}
}

// cutLabel reads a label (quoted with doubled inner quotes, or bare up to
// '=') and returns it with the text after the '='.
func cutLabel(s string) (string, string, error) {
	if s[0] != '\'' {
		i := strings.IndexAny(s, "= ")
		if i < 0 || s[i] != '=' {
			j := strings.IndexByte(s, ' ')
			if j < 0 {
				j = len(s)
			}
			return s[:j], s[j:], nil // no '=': parseItem reports it
		}
		return s[:i], s[i+1:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		rest := s[i+1:]
		if !strings.HasPrefix(rest, "=") {
			return b.String(), rest, nil // parseItem reports the missing '='
		}
		return b.String(), rest[1:], nil
	}
	return "", "", fmt.Errorf("perfdata %q: unterminated quote", s)
}

// parseItem parses `value[UOM];warn;crit;min;max` of one label.
func parseItem(label, item string) (Perfdata, error) {
	p := Perfdata{Label: label}
	if label == "" {
		return p, fmt.Errorf("perfdata %q: empty label", item)
	}
	fields := strings.Split(item, ";")
	if len(fields) > 5 {
		return p, fmt.Errorf("perfdata %s=%s: more than 5 fields", label, item)
	}
	v := fields[0]
	if v == "U" {
		p.NoValue = true
	} else {
		end := len(v)
		for end > 0 && !strings.ContainsRune("0123456789.", rune(v[end-1])) {
			end--
		}
		f, err := strconv.ParseFloat(v[:end], 64)
		if err != nil {
			return p, fmt.Errorf("perfdata %s=%s: bad value %q", label, item, v)
		}
		p.Value, p.UOM = f, v[end:]
	}
	for i, dst := range []*string{&p.Warn, &p.Crit, &p.Min, &p.Max} {
		if i+1 < len(fields) {
			*dst = fields[i+1]
		}
	}
	return p, nil
}
