package checkscript

import (
	"math"
	"strconv"
	"strings"
)

// The plugins read numbers with the C library: strtod and atoi take the
// longest number at the start of a word and ignore the rest ("5O" is 5,
// "abc" is 0), and their is_* tests decide what a flag accepts. A command
// line must mean to a probe what it means to the plugin, so the probes that
// stand for a plugin read numbers the same way, with these.

// Strtod reads the longest decimal number at the start of s, after blanks,
// as C's strtod: its value and the number of bytes read (0 when s does not
// start with a number, and the value is then 0). inf, infinity and nan
// are read too; hexadecimal floats are not.
func Strtod(s string) (float64, int) {
	i := len(s) - len(strings.TrimLeft(s, " \t\n\v\f\r"))
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for _, word := range []string{"infinity", "inf", "nan"} {
		if len(s)-i >= len(word) && strings.EqualFold(s[i:i+len(word)], word) {
			v, _ := strconv.ParseFloat(s[start:i+len(word)], 64)
			return v, i + len(word)
		}
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	v, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil { // out of range: ±Inf or 0, as strtod with ERANGE
		if math.IsInf(v, 0) {
			return v, i
		}
		return 0, i
	}
	return v, i
}

// Atof is C's atof: Strtod's value, 0 when s does not start with a number.
func Atof(s string) float64 {
	v, _ := Strtod(s)
	return v
}

// Atoi is C's atoi: the integer at the start of s after blanks, 0 when
// there is none (it wraps as a C int does, beyond 32 bits).
func Atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		n = n*10 + int64(s[i]-'0')
		if n > math.MaxInt64/100 {
			break
		}
	}
	if neg {
		n = -n
	}
	return int(int32(n))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// IsNumeric is the plugins' is_numeric: s is one number and nothing else
// (blanks before it allowed).
func IsNumeric(s string) bool {
	_, n := Strtod(s)
	return n > 0 && n == len(s)
}

// IsInteger is the plugins' is_integer: only digits, '-' and spaces, and
// within a C int.
func IsInteger(s string) bool {
	if strings.Trim(s, "-0123456789 ") != "" {
		return false
	}
	t := strings.TrimLeft(s, " ")
	end := 0
	if end < len(t) && (t[end] == '-' || t[end] == '+') {
		end++
	}
	for end < len(t) && isDigit(t[end]) {
		end++
	}
	if end == 0 || (end == 1 && !isDigit(t[0])) {
		return true // strtol reads 0
	}
	n, err := strconv.ParseInt(t[:end], 10, 64)
	return err == nil && n >= math.MinInt32 && n <= math.MaxInt32
}

// IsIntPos is the plugins' is_intpos: an integer above 0.
func IsIntPos(s string) bool { return IsInteger(s) && Atoi(s) > 0 }

// IsIntNonNeg is the plugins' is_intnonneg: an integer, 0 or more.
func IsIntNonNeg(s string) bool { return IsInteger(s) && Atoi(s) >= 0 }

// IsIntPercent is the plugins' is_intpercent: an integer within 0..100.
func IsIntPercent(s string) bool {
	n := Atoi(s)
	return IsInteger(s) && n >= 0 && n <= 100
}

// IsNegative is the plugins' is_negative: one number, below 0.
func IsNegative(s string) bool { return IsNumeric(s) && Atof(s) < 0 }

// CFloat prints v as C's printf("%f").
func CFloat(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
