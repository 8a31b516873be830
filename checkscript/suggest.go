package checkscript

import (
	"strings"

	"github.com/agext/levenshtein"
)

// Nearest returns the candidate closest to name, for a "did you mean"
// hint after a typo: the one at the smallest edit distance, if that
// distance is at most 2 (as HCL's own suggestions) or a third of the longer
// name's length, or the only candidate that name is a prefix of; else "".
// Candidates are tried in order, so a tie goes to the first.
func Nearest(name string, candidates []string) string {
	if name == "" {
		return ""
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		d := levenshtein.Distance(name, c, nil)
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" && bestDist <= max(2, max(len(name), len(best))/3) {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if strings.HasPrefix(c, name) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// DidYouMean is the hint Nearest gives, as a sentence to append to an
// error ("; did you mean \"disk\"?"), or "" when nothing is near.
func DidYouMean(name string, candidates []string) string {
	if n := Nearest(name, candidates); n != "" {
		return "; did you mean " + quote(n) + "?"
	}
	return ""
}

func quote(s string) string { return `"` + s + `"` }
