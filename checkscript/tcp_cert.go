package checkscript

import (
	"fmt"
	"strings"
	"time"
)

// certTimeLayout prints dates as check_tcp does ("Fri Nov 27 11:32:46 2026 +0000").
const certTimeLayout = "Mon Jan _2 15:04:05 2006 -0700"

// parseCertDays reads check_tcp's -D WARN[,CRIT] (CRIT defaults to 0):
// each a non-negative integer, else check_tcp's "Invalid certificate
// expiration period".
func parseCertDays(s string) (warn, crit int, err error) {
	w, c, hasCrit := strings.Cut(s, ",")
	if !IsIntNonNeg(w) {
		return 0, 0, fmt.Errorf("Invalid certificate expiration period - %s", w)
	}
	if hasCrit && !IsIntNonNeg(c) {
		return 0, 0, fmt.Errorf("Invalid certificate expiration period - %s", c)
	}
	return Atoi(w), Atoi(c), nil
}

// certExpiry judges a certificate's remaining validity the way the plugins'
// np_net_ssl_check_cert does: whole days left (truncated), WARNING when at
// most warnDays remain, CRITICAL when at most critDays remain, and CRITICAL
// for the last day or an expired certificate. It is pure, for tests.
func certExpiry(cn string, notAfter, now time.Time, warnDays, critDays int) (Status, string) {
	left := notAfter.Sub(now)
	days := int(left / (24 * time.Hour))
	stamp := notAfter.UTC().Format(certTimeLayout)
	pick := func() Status {
		if days > critDays {
			return Warning
		}
		return Critical
	}
	switch {
	case days > 0 && days <= warnDays:
		return pick(), fmt.Sprintf("Certificate '%s' expires in %d day(s) (%s).", cn, days, stamp)
	case days == 0 && left > 0:
		n, unit := int(left/time.Hour), "hours"
		if left < time.Hour {
			n, unit = int(left/time.Minute), "minutes"
		}
		return pick(), fmt.Sprintf("Certificate '%s' expires in %d %s (%s)", cn, n, unit, stamp)
	case left < 0:
		return Critical, fmt.Sprintf("Certificate '%s' expired on %s.", cn, stamp)
	case days == 0:
		return Critical, fmt.Sprintf("Certificate '%s' just expired (%s).", cn, stamp)
	}
	return OK, fmt.Sprintf("Certificate '%s' will expire on %s.", cn, stamp)
}

// certSteady is the steady form of a certificate near or past its end: the
// date and the threshold reached, not the days, hours or minutes left,
// which count down while the state holds.
func certSteady(cn string, notAfter, now time.Time, st Status, warnDays, critDays int) string {
	stamp := notAfter.UTC().Format(certTimeLayout)
	switch {
	case !notAfter.After(now):
		return fmt.Sprintf("Certificate '%s' expired on %s.", cn, stamp)
	case st == Warning:
		return fmt.Sprintf("Certificate '%s' expires on %s, within the warning threshold of %d day(s).", cn, stamp, warnDays)
	case notAfter.Sub(now) < 24*time.Hour:
		return fmt.Sprintf("Certificate '%s' expires on %s, within its last day.", cn, stamp)
	}
	return fmt.Sprintf("Certificate '%s' expires on %s, within the critical threshold of %d day(s).", cn, stamp, critDays)
}
