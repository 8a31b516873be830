package consulstatus

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/hashicorp/consul/api"
)

// Kind is what a failed call to a Consul agent means for the caller. Every
// decision taken on a Consul error (wait for the agent, back off a refused
// token, register a missing check again, wait for a leader, report a
// refusal) starts from Classify, the one place that reads Consul's answers.
type Kind int

// The kinds of failure, from no failure to a refusal.
const (
	// None is no error.
	None Kind = iota
	// Canceled: the caller's own context ended; nothing to say about Consul.
	Canceled
	// Unreachable: no answer from the agent (connection refused or reset,
	// EOF, no answer within the call's bound): it is away, restarting or
	// frozen.
	Unreachable
	// Denied: 403, the ACL token lacks a permission or does not exist.
	Denied
	// NotFound: 404, the agent does not know the service or check (or a TTL
	// update names a check that is not a TTL check).
	NotFound
	// NoLeader: the agent answered that its servers know no leader, or that
	// it knows no server.
	NoLeader
	// Transport: the agent answered that its RPC to a server broke ("rpc
	// error making call: EOF", "rpc error getting client"): a server just
	// went away or does not trust it yet; nothing is said about the leader.
	Transport
	// Rejected: the agent answered and refused the request itself (an
	// invalid definition, a configuration reload that failed, ...).
	Rejected
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Canceled:
		return "canceled"
	case Unreachable:
		return "unreachable"
	case Denied:
		return "denied"
	case NotFound:
		return "not found"
	case NoLeader:
		return "no leader"
	case Transport:
		return "rpc transport"
	default:
		return "rejected"
	}
}

// Classify says what err, returned by a consul/api call, means. An answer
// of the agent is a StatusError and is read by its code, then its body;
// anything else is a failure to get an answer.
func Classify(err error) Kind {
	if err == nil {
		return None
	}
	var se api.StatusError
	if !errors.As(err, &se) {
		if errors.Is(err, context.Canceled) {
			return Canceled
		}
		return Unreachable
	}
	body := strings.ToLower(se.Body)
	switch {
	case se.Code == 403:
		return Denied
	case se.Code == 404, strings.Contains(body, "does not have associated ttl"):
		return NotFound
	case strings.Contains(body, "no cluster leader"), strings.Contains(body, "no known consul servers"),
		strings.Contains(body, "no path to datacenter"):
		return NoLeader
	case strings.Contains(body, "rpc error making call"), strings.Contains(body, "rpc error getting client"):
		return Transport
	default:
		return Rejected
	}
}

// lacksPermission finds the permission in Consul's 403 answers:
// `Permission denied: token with AccessorID '…' lacks permission
// 'service:write' on "carbonio-mta-smtp"`.
var lacksPermission = regexp.MustCompile(`lacks permission '([^']+)'(?: on "?([^"\s]+)"?)?`)

// Reason words a failed call for a log line or a check's output: for a
// refusal, the missing permission and on what (or that the token does not
// exist); for any other answer, what the agent said; else the error.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var se api.StatusError
	if !errors.As(err, &se) {
		return err.Error()
	}
	body := strings.TrimSpace(se.Body)
	if se.Code == 403 {
		if m := lacksPermission.FindStringSubmatch(body); m != nil {
			if m[2] != "" {
				return m[1] + " on " + m[2]
			}
			return m[1]
		}
		if strings.Contains(body, "ACL not found") {
			return "a valid token (ACL not found: the token was deleted or never existed)"
		}
	}
	if body == "" {
		return err.Error()
	}
	return body
}
