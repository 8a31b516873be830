package checkscript

import (
	"fmt"
	"math"
	"strings"
)

// sizeSuffixes are the multipliers of byte sizes, in powers of 1024 as du
// and check_disk count them: 500G is 500·2³⁰ bytes. "B" alone and a bare
// number are bytes; "K", "KB", "KiB" (any case) are the same multiplier.
var sizeSuffixes = map[string]float64{
	"":  1,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50,
}

// ParseSize reads a byte count with an optional power-of-1024 suffix:
// "1048576", "512K", "10M", "500G", "2T", "1.5GiB". It never panics.
func ParseSize(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	unit := strings.TrimSuffix(strings.TrimSuffix(t, "b"), "i")
	num := strings.TrimRight(unit, "kmgtp")
	suffix := unit[len(num):]
	mult, ok := sizeSuffixes[suffix]
	if !ok || (strings.HasSuffix(t, "ib") && suffix == "") {
		return 0, fmt.Errorf("%q: unknown size unit (use K, M, G, T or P, powers of 1024)", s)
	}
	v, err := parseNumber(num)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q: a size cannot be negative", s)
	}
	return v * mult, nil
}

// ParseSizeRange is ParseRange with size suffixes on either bound
// ("500G", "@10M:20M", "~:1T", "2G:"); the range keeps its bounds written
// in bytes, so its perfdata text is plain numbers.
func ParseSizeRange(s string) (Range, error) {
	text := strings.TrimSpace(s)
	body, inside := strings.CutPrefix(text, "@")
	start, end, hasColon := strings.Cut(body, ":")
	expand := func(b string) (string, error) {
		if b == "" || b == "~" {
			return b, nil
		}
		v, err := ParseSize(b)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrRangeFormat, err)
		}
		return FormatFloat(math.Round(v)), nil
	}
	var out string
	if hasColon {
		a, err := expand(start)
		if err != nil {
			return Range{}, err
		}
		b, err := expand(end)
		if err != nil {
			return Range{}, err
		}
		out = a + ":" + b
	} else {
		b, err := expand(body)
		if err != nil {
			return Range{}, err
		}
		out = b
	}
	if inside {
		out = "@" + out
	}
	return ParseRange(out)
}

// ParseSizeThresholds is ParseThresholds with size suffixes.
func ParseSizeThresholds(warn, crit string) (Thresholds, error) {
	return parseThresholdsWith(warn, crit, ParseSizeRange)
}

// HumanBytes prints n in the largest power-of-1024 unit below it, with one
// decimal: "12.3 GiB", "512 B".
func HumanBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return FormatFloat(n) + " B"
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
