package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"

	"github.com/shirou/gopsutil/v3/host"
)

// usersProbe is the users probe's entry in the registry (probes).
var usersProbe = Probe{
	Name:    "users",
	Label:   "USERS",
	Summary: "The number of logged-in users, from utmp (like check_users).",
	Define: func(fs *flag.FlagSet) func() (Check, error) {
		return usersFlags(fs, &usersCheck{count: countUsers})
	},
}

// usersCheck counts utmp USER_PROCESS entries against -w/-c ranges.
type usersCheck struct {
	thresholds Thresholds
	// count returns the number of logged-in users; tests may replace it.
	count func(ctx context.Context) (int, error)
}

// usersFlags declares the flags of the users probe on fs, parsed into c,
// which holds the probe's inputs.
func usersFlags(fs *flag.FlagSet, c *usersCheck) func() (Check, error) {
	var warn, crit string
	// check_users 2.3.3 requires both and crashes (SIGSEGV) with only -w;
	// here either may be left out.
	StringFlag(fs, &warn, "w", "warning", "", "warning range on the number of users (e.g. 5, or @0:0)")
	StringFlag(fs, &crit, "c", "critical", "", "critical range on the number of users (e.g. 10)")
	return func() (Check, error) {
		t, err := ParseThresholds(warn, crit)
		if err != nil {
			return nil, err
		}
		c.thresholds = t
		return c, nil
	}
}

// countUsers reads utmp through gopsutil, which counts USER_PROCESS records
// of $HOST_VAR/run/utmp (default /var/run/utmp) as check_users does with
// getutxent. A missing utmp means nobody is logged in, as glibc sees it.
func countUsers(ctx context.Context) (int, error) {
	users, err := host.UsersWithContext(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading utmp: %w", err)
	}
	return len(users), nil
}

// Run counts the users and evaluates the count.
func (c *usersCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	n, err := Blocking(ctx, func() (int, error) { return c.count(ctx) })
	if err != nil {
		if ctx.Err() != nil {
			return socketTimeout("USERS", timeout)
		}
		return Unknownf("USERS", "Could not read utmp: "+ErrText(err))
	}
	return evaluateUsers(n, c.thresholds)
}

// evaluateUsers is the pure part: the count against the ranges, with
// check_users' wording and perfdata (users=N;warn;crit;0).
func evaluateUsers(n int, t Thresholds) Result {
	return Result{
		Label:   "USERS",
		Status:  t.Evaluate(float64(n)),
		Summary: fmt.Sprintf("%d users currently logged in", n),
		Perfdata: []Perfdata{{
			Label: "users", Value: float64(n),
			Warn: t.WarnText(), Crit: t.CritText(), Min: "0",
		}},
	}
}
