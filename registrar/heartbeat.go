package registrar

import (
	"context"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
)

// The daemon's heartbeat: one service of its own with one TTL check that
// the daemon pushes while it runs and its token works. It tells a reader of
// the catalog whether the node's other carbonio-health checks are fresh.
//
// Why: the agent writes a service to the catalog with the token it was
// registered with. Services registered over the API carry the daemon's
// token; once that token is deleted (or its policy emptied) the agent can
// no longer write them, so the catalog keeps their last states, often
// passing, while the node's own agent sees its TTL checks expire. The
// heartbeat goes through the agent's config fragment whenever there is one,
// so the agent writes it with its own default token (node and
// service_prefix write on Carbonio): the daemon's pushes stop, the check
// expires, and the catalog says so. `status` then answers UNKNOWN for the
// node instead of its stale states. A daemon that stopped or crashed shows
// the same way. A steady push changes nothing, so it costs no catalog write.
const (
	// HeartbeatServiceID is the heartbeat service's ID (two parts: no
	// declared role's service, carbonio-health:<role>:<key>, can take it).
	HeartbeatServiceID = "carbonio-health:daemon"
	// HeartbeatServiceName is its name in the catalog.
	HeartbeatServiceName = "carbonio-health-daemon"
	// HeartbeatCheckID is its TTL check.
	HeartbeatCheckID = "carbonio-health:daemon:alive"
	// heartbeatProbe names the heartbeat in TTLCheck.Probe; it is no
	// checkscript probe, TTLRunner answers it itself.
	heartbeatProbe = "heartbeat"
	// heartbeatInterval is how often it is evaluated; pushed every TTL/2.
	heartbeatInterval = 10 * time.Second
	// heartbeatTTL is how long after the daemon's last push the check
	// expires: the longest a reader sees stale checks as fresh.
	heartbeatTTL = 30 * time.Second
)

// heartbeatNotes is shown with the check in the Consul UI.
const heartbeatNotes = "The carbonio-health daemon pushes this check while it runs and Consul accepts its ACL token. " +
	"When it expires, the node's other carbonio-health checks in the catalog are stale: their last states, not the node's. " +
	"It warns, naming the cause, while the agent does not hold what is declared (a refused reload, registration or TTL update, an unwritable config fragment)."

// heartbeatService is the heartbeat's registration, owned like every other
// service (Meta managed-by, hash) and delivered through the agent's config
// fragment when there is one (ViaFile).
func heartbeatService() ServiceState {
	reg := &api.AgentServiceRegistration{
		ID:   HeartbeatServiceID,
		Name: HeartbeatServiceName,
		Meta: map[string]string{
			MetaManagedBy: ManagedBy,
			"description": "carbonio-health daemon: feeds this node's TTL checks",
		},
		Checks: api.AgentServiceChecks{{
			CheckID: HeartbeatCheckID,
			Name:    "carbonio-health daemon alive",
			Notes:   heartbeatNotes,
			TTL:     duration(heartbeatTTL),
		}},
	}
	st := ServiceState{Registration: reg, Hash: sealRegistration(reg), ViaFile: true}
	st.TTL = []TTLCheck{{
		CheckID: HeartbeatCheckID, ServiceID: HeartbeatServiceID, Name: "alive",
		Probe: heartbeatProbe, Interval: heartbeatInterval, TTL: heartbeatTTL,
	}}
	return st
}

// heartbeatCheck is what the TTLRunner runs for the heartbeat: OK while
// the agent holds what is declared, WARNING naming what it does not hold
// otherwise (selfState). Its output changes only with that, so a steady
// push costs no catalog write.
type heartbeatCheck struct{ self *selfState }

// Run answers that the daemon runs, and whether the agent holds what is
// declared.
func (h heartbeatCheck) Run(context.Context) checkscript.Result {
	if h.self != nil {
		if s := summarizeProblems(h.self.problems()); s != "" {
			return checkscript.Result{Label: "HEARTBEAT", Status: checkscript.Warning, Summary: s}
		}
	}
	return checkscript.Result{Label: "HEARTBEAT", Status: checkscript.OK,
		Summary: "carbonio-health daemon running; this node's carbonio-health checks are fed"}
}
