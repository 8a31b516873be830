package checkscript

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrRangeFormat is returned for a threshold that is not a valid range; the
// plugins answer UNKNOWN "Range format incorrect" in that case.
var ErrRangeFormat = errors.New("Range format incorrect")

// Range is a Nagios threshold range `[@]start:end` as defined by the plugin
// development guidelines:
//
//	10      alert outside 0..10
//	10:     alert below 10
//	~:10    alert above 10
//	10:20   alert outside 10..20
//	@10:20  alert inside 10..20 (inclusive)
type Range struct {
	Start, End float64 // -Inf / +Inf when open
	Inside     bool    // '@': alert when inside instead of outside
	text       string
}

// ParseRange parses a threshold range. It never panics; a malformed range
// returns an error wrapping ErrRangeFormat.
func ParseRange(s string) (Range, error) {
	text := strings.TrimSpace(s)
	r := Range{Start: 0, End: math.Inf(1), text: text}
	if text == "" {
		return Range{}, fmt.Errorf("%w: empty range", ErrRangeFormat)
	}
	body := text
	if strings.HasPrefix(body, "@") {
		r.Inside = true
		body = body[1:]
	}
	start, end, hasColon := strings.Cut(body, ":")
	if !hasColon {
		start, end = "", body
	}
	if hasColon {
		switch start {
		case "~":
			r.Start = math.Inf(-1)
		case "":
			return Range{}, fmt.Errorf("%w: %q has no start", ErrRangeFormat, text)
		default:
			v, err := parseNumber(start)
			if err != nil {
				return Range{}, fmt.Errorf("%w: %q: %w", ErrRangeFormat, text, err)
			}
			r.Start = v
		}
	}
	if end != "" {
		v, err := parseNumber(end)
		if err != nil {
			return Range{}, fmt.Errorf("%w: %q: %w", ErrRangeFormat, text, err)
		}
		r.End = v
	} else if !hasColon {
		return Range{}, fmt.Errorf("%w: %q has no end", ErrRangeFormat, text)
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("%w: %q starts after it ends", ErrRangeFormat, text)
	}
	return r, nil
}

// MustParseRange is ParseRange for constants known to be valid; it panics on error.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// Alert reports whether v triggers the range.
func (r Range) Alert(v float64) bool {
	inside := v >= r.Start && v <= r.End
	if r.Inside {
		return inside
	}
	return !inside
}

// String returns the range as it was written, for perfdata.
func (r Range) String() string { return r.text }

// Thresholds pairs an optional warning and critical range.
type Thresholds struct {
	Warn, Crit *Range
}

// ParseThresholds parses the -w/-c pair; an empty string leaves that side unset.
func ParseThresholds(warn, crit string) (Thresholds, error) {
	return parseThresholdsWith(warn, crit, ParseRange)
}

// parseThresholdsWith parses the -w/-c pair with the given range parser.
func parseThresholdsWith(warn, crit string, parse func(string) (Range, error)) (Thresholds, error) {
	var t Thresholds
	for _, side := range []struct {
		text string
		dst  **Range
		name string
	}{{warn, &t.Warn, "warning"}, {crit, &t.Crit, "critical"}} {
		if side.text == "" {
			continue
		}
		r, err := parse(side.text)
		if err != nil {
			return Thresholds{}, fmt.Errorf("%s: %w", side.name, err)
		}
		*side.dst = &r
	}
	return t, nil
}

// Evaluate returns Critical, Warning or OK for v; critical is checked first.
func (t Thresholds) Evaluate(v float64) Status {
	if t.Crit != nil && t.Crit.Alert(v) {
		return Critical
	}
	if t.Warn != nil && t.Warn.Alert(v) {
		return Warning
	}
	return OK
}

// WarnText and CritText return the thresholds as perfdata fields.
func (t Thresholds) WarnText() string { return rangeText(t.Warn) }

// CritText returns the critical threshold as a perfdata field.
func (t Thresholds) CritText() string { return rangeText(t.Crit) }

func rangeText(r *Range) string {
	if r == nil {
		return ""
	}
	return r.String()
}

// ParsePluginRange reads a range as the plugins' parse_range_string does:
// numbers as strtod reads them (a word that is no number counts as 0, text
// after a number is ignored: "5%" is 5), an empty end is open. Only a
// start after the end is an error (the plugins' "Range format
// incorrect"). The probes that stand for a plugin read -w/-c with it, so
// that a command line means what it means to the plugin; ParseRange is the
// strict form for our own probes.
func ParsePluginRange(s string) (Range, error) {
	r := Range{Start: 0, End: math.Inf(1), text: s}
	body := s
	if strings.HasPrefix(body, "@") {
		r.Inside = true
		body = body[1:]
	}
	end := body
	if i := strings.IndexByte(body, ':'); i >= 0 {
		if strings.HasPrefix(body, "~") {
			r.Start = math.Inf(-1)
		} else {
			r.Start = Atof(body[:i])
		}
		end = body[i+1:]
	}
	if end != "" {
		r.End = Atof(end)
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("%w: %q starts after it ends", ErrRangeFormat, s)
	}
	return r, nil
}

// ParsePluginThresholds is ParseThresholds with ParsePluginRange: the
// plugins' set_thresholds.
func ParsePluginThresholds(warn, crit string) (Thresholds, error) {
	return parseThresholdsWith(warn, crit, ParsePluginRange)
}
