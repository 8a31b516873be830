package registrar

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
)

// TestTokenStateLogsOnceAndBacksOff: one line when refused, one when it works
// again, and the backoff doubles up to its cap.
func TestTokenStateLogsOnceAndBacksOff(t *testing.T) {
	var out strings.Builder
	ts := tokenState{log: hclog.New(&hclog.LoggerOptions{Output: &out})}
	denied := api.StatusError{Code: 403, Body: "ACL not found"}
	if ts.Refused(errors.New("connection refused")) || ts.Wait() {
		t.Fatal("a non-ACL error counted as a refusal")
	}
	for range 10 {
		if !ts.Refused(denied) {
			t.Fatal("403 not recognised")
		}
	}
	if !ts.Wait() || ts.backoff.cur != maxRefusedBackoff {
		t.Errorf("wait %v, backoff %v; want waiting at the %v cap", ts.Wait(), ts.backoff, maxRefusedBackoff)
	}
	ts.RetryNow()
	if ts.Wait() {
		t.Error("RetryNow did not end the wait")
	}
	if !ts.Works() || ts.Works() {
		t.Error("Works should report the recovery once")
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("%d log lines, want 2:\n%s", n, out.String())
	}
}
