package checkscript

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// usersProbe is the users probe's entry in the registry of the light probes (Light).
var usersProbe = Probe{
	Name:    "users",
	Label:   "USERS",
	Summary: "The number of logged-in users, from utmp (like check_users).",
	Define: func(fs *flag.FlagSet) func() (Check, error) {
		return usersFlags(fs, &usersCheck{count: countUsers})
	},
	Syntax: ArgSyntax{StopAtOperand: true, NeedArgs: NoArguments},
}

// usersCheck counts utmp USER_PROCESS entries against -w/-c ranges.
type usersCheck struct {
	thresholds Thresholds
	// count returns the number of logged-in users; tests may replace it.
	count func(ctx context.Context) (int, error)
	// calls bounds the reads given up on to one (Blocking).
	calls Calls
}

// usersFlags declares the flags of the users probe on fs, parsed into c,
// which holds the probe's inputs: check_users' -w and -c ranges, or its
// old form `users W C` (operands).
func usersFlags(fs *flag.FlagSet, c *usersCheck) func() (Check, error) {
	var warn, crit string
	StringFlag(fs, &warn, "w", "warning", "", "warning range on the number of users (e.g. 5, or @0:0)")
	StringFlag(fs, &crit, "c", "critical", "", "critical range on the number of users (e.g. 10)")
	fs.Bool("v", false, "accepted, as check_users does; changes nothing")
	var operands []string
	Operands(fs, "[WARN [CRIT]]", func(s string) error { operands = append(operands, s); return nil })
	return func() (Check, error) {
		// check_users 2.3.3 requires both and crashes (SIGSEGV) with only
		// one; here either may be left out.
		if !isSet(fs, "w", "warning") && len(operands) > 0 {
			warn, operands = operands[0], operands[1:]
		}
		if !isSet(fs, "c", "critical") && len(operands) > 0 {
			crit = operands[0]
		}
		t, err := ParsePluginThresholds(warn, crit)
		if err != nil {
			return nil, errors.Unwrap(err)
		}
		if t.Warn != nil && t.Warn.End < 0 {
			return nil, errors.New("Warning threshold must be a positive integer")
		}
		if t.Crit != nil && t.Crit.End < 0 {
			return nil, errors.New("Critical threshold must be a positive integer")
		}
		c.thresholds = t
		return c, nil
	}
}

// utmp as glibc lays it out on Linux (x86_64 and arm64 alike): records of
// utmpRecordSize bytes starting with ut_type, a little-endian int16.
const (
	utmpRecordSize = 384
	utmpUserType   = 7 // USER_PROCESS
)

// countUsers counts the USER_PROCESS records of $HOST_VAR/run/utmp
// (default /var/run/utmp), as check_users does with getutxent and gopsutil's
// host.Users does (the same file, the same records). gopsutil/v3/host is not
// used: its init compiles three regexps, 0.1 ms at every exec of
// carbonio-health-check, for two bytes per record. A missing utmp means
// nobody is logged in, as glibc sees it.
func countUsers(context.Context) (int, error) {
	root := os.Getenv("HOST_VAR")
	if root == "" {
		root = "/var"
	}
	data, err := os.ReadFile(filepath.Join(root, "run", "utmp"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading utmp: %w", err)
	}
	n := 0
	for rec := data; len(rec) >= utmpRecordSize; rec = rec[utmpRecordSize:] {
		if int16(binary.LittleEndian.Uint16(rec)) == utmpUserType {
			n++
		}
	}
	return n, nil
}

// Run counts the users and evaluates the count.
func (c *usersCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	n, err := Blocking(ctx, &c.calls, "read utmp", func() (int, error) { return c.count(ctx) })
	if err != nil {
		if ctx.Err() != nil {
			return socketTimeout("USERS", timeout)
		}
		return Unknownf("USERS", "Could not read utmp: "+ErrText(err))
	}
	return evaluateUsers(n, c.thresholds)
}

// evaluateUsers is the pure part: the count against the ranges, with
// check_users' wording ("3 users currently logged in |users=3;5;10;0",
// the space before '|' included). The steady form names the threshold
// crossed instead of the count.
func evaluateUsers(n int, t Thresholds) Result {
	res := Result{
		Label:   "USERS",
		Status:  t.Evaluate(float64(n)),
		Summary: fmt.Sprintf("%d users currently logged in ", n),
		Perfdata: []Perfdata{{
			Label: "users", Value: float64(n),
			Warn: t.WarnText(), Crit: t.CritText(), Min: "0",
		}},
		Steady: "number of logged-in users within the thresholds",
	}
	if why, ok := t.Breach(float64(n), ""); ok {
		res.Steady = "number of logged-in users " + why
	}
	return res
}
