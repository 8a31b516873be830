package allprobes

import "regexp"

// diskRegexp compiles check_disk's -r, -R, -i, -I and -A expressions with
// Go's regexp in POSIX mode (check_disk uses POSIX extended expressions);
// -R and -I fold case. It lives here, not in checkscript: carbonio-health-
// check links no regexp package, and refuses those flags.
func diskRegexp(expr string, foldCase bool) (func(string) bool, error) {
	if foldCase {
		expr = "(?i)" + expr
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	}
	re, err := regexp.CompilePOSIX(expr)
	if err != nil {
		return nil, err
	}
	return re.MatchString, nil
}
