package registrar

import (
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/checkscript/consulstatus"
)

// maxRefusedBackoff caps the wait between two attempts with a refused
// token: a deleted token or an emptied policy costs the agent one request
// per 30 s, not one per pass and per TTL check.
const maxRefusedBackoff = 30 * time.Second

// tokenState is the daemon's view of its own ACL token: working, or
// refused by the agent since some time and why. It logs one line when the
// token starts being refused (naming the missing permission) and one when
// it works again, and spaces out the attempts meanwhile. Safe for
// concurrent use (the TTL goroutines report to it).
type tokenState struct {
	log hclog.Logger

	mu      sync.Mutex
	refused string // the reason; "" while the token works
	backoff backoff
	next    time.Time // no attempt before this while refused
}

// Refused records err when it is an ACL refusal and reports whether it was.
func (t *tokenState) Refused(err error) bool {
	if consulstatus.Classify(err) != consulstatus.Denied {
		return false
	}
	reason := consulstatus.Reason(err)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refused == "" {
		t.log.Error("consul refuses the daemon's ACL token; registrations and TTL updates pause and are retried with backoff until it works",
			"missing", reason, "max_backoff", maxRefusedBackoff)
		t.backoff = backoff{first: time.Second, max: maxRefusedBackoff}
	}
	t.refused = reason
	t.next = time.Now().Add(t.backoff.next())
	return true
}

// Works records a successful call; it reports whether the token had been
// refused until now (the caller then re-sends what it held back).
func (t *tokenState) Works() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refused == "" {
		return false
	}
	t.log.Info("consul accepts the daemon's ACL token again", "was", t.refused)
	t.refused = ""
	t.backoff.reset()
	return true
}

// Wait reports whether calls should hold back now (refused, and the
// backoff not over).
func (t *tokenState) Wait() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refused != "" && time.Now().Before(t.next)
}

// RetryNow ends the current backoff (the cluster just got a leader: a
// token refused while it had none may work now).
func (t *tokenState) RetryNow() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next = time.Time{}
}

// Reason is why the token is refused ("" while it works).
func (t *tokenState) Reason() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refused
}
