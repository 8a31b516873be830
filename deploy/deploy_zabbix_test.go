package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// TestZabbixAgent runs Debian's zabbix_agentd -t on the shipped
// UserParameters for every key deploy/README.md's Zabbix block tests, against a
// dev agent with one passing and one critical check: the discovery is LLD
// JSON in the form Zabbix reads and carries every macro the template uses,
// and the items' JSON says the states.
func TestZabbixAgent(t *testing.T) {
	t.Parallel() // each waits on its own tool and dev agent
	agentd := tool(t, "zabbix_agentd")
	agent := devNode(t, map[string]string{"mta:smtp": api.HealthPassing, "mta:submission": api.HealthCritical})

	dir := t.TempDir()
	params := shippedFile(t, "zabbix/carbonio-health.conf")
	writeFile(t, filepath.Join(dir, "carbonio-health.conf"), params)
	conf := filepath.Join(dir, "zabbix_agentd.conf")
	writeFile(t, conf, "LogType=console\nPidFile="+filepath.Join(dir, "zabbix_agentd.pid")+
		"\nAllowRoot=1\nTimeout=15\nInclude="+filepath.Join(dir, "carbonio-health.conf")+"\n")

	// The keys deploy/README.md tests, which must cover every UserParameter.
	var keys []string
	for _, m := range regexp.MustCompile(`(?m)^zabbix_agentd -t '?([^' \n]+)'?$`).FindAllStringSubmatch(docBlock(t, "zabbix"), -1) {
		keys = append(keys, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^UserParameter=([a-z.]+)`).FindAllStringSubmatch(params, -1) {
		found := false
		for _, k := range keys {
			found = found || k == m[1] || strings.HasPrefix(k, m[1]+"[")
		}
		if !found {
			t.Errorf("deploy/README.md's Zabbix block tests no key of UserParameter %s", m[1])
		}
	}

	values := map[string]string{}
	for _, key := range keys {
		cmd := exec.Command(agentd, "-c", conf, "-t", key)
		cmd.Env = append(os.Environ(), "CONSUL_HTTP_ADDR="+agent.Addr)
		out, err := cmd.CombinedOutput()
		m := regexp.MustCompile(`(?s)^` + regexp.QuoteMeta(key) + `\s+\[t\|(.*)\]\s*$`).FindStringSubmatch(string(out))
		if err != nil || m == nil {
			t.Errorf("zabbix_agentd -t %s: %v\n%s", key, err, out)
			continue
		}
		t.Logf("%s = %s", key, m[1])
		values[strings.SplitN(key, "[", 2)[0]] = m[1]
	}

	checkLLD(t, values["carbonio.health.discovery"], "carbonio-health:mta:smtp:tcp", "carbonio-health:mta:submission:tcp")
	for key, code := range map[string]int{"carbonio.health.check": 0, "carbonio.health.node": 2} {
		var item struct{ Code *int }
		if err := json.Unmarshal([]byte(values[key]), &item); err != nil || item.Code == nil || *item.Code != code {
			t.Errorf("%s: $.code %v (%v), want %d", key, item.Code, err, code)
		}
	}
}

// checkLLD checks low-level discovery JSON against what Zabbix reads: an
// object whose "data" is an array of objects, each mapping {#MACRO} names
// to strings (Zabbix 4.2+ also takes the bare array; 6.0 reads both), with
// every macro the shipped template uses, and one entry per check ID given
// (the node's serfHealth may be there too, once the agent has synced it).
func checkLLD(t *testing.T, text string, checkIDs ...string) {
	t.Helper()
	var doc map[string][]map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil || len(doc) != 1 || doc["data"] == nil {
		t.Fatalf("discovery %q: want {\"data\":[…]} (%v)", text, err)
	}
	found := map[string]bool{}
	for _, e := range doc["data"] {
		if id, _ := e["{#CHECKID}"].(string); id != "serfHealth" {
			found[id] = true
		}
	}
	if len(found) != len(checkIDs) {
		t.Errorf("discovery: checks %v, want %v", found, checkIDs)
	}
	for _, id := range checkIDs {
		if !found[id] {
			t.Errorf("discovery lacks check %s", id)
		}
	}
	tmpl, err := os.ReadFile("zabbix/template_carbonio_health.yaml")
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`\{#[A-Z0-9_.]+\}`).FindAllString(string(tmpl), -1)
	macro := regexp.MustCompile(`^\{#[A-Z0-9_.]+\}$`)
	for i, e := range doc["data"] {
		for k, v := range e {
			if _, ok := v.(string); !ok || !macro.MatchString(k) {
				t.Errorf("discovery entry %d: %q: %v is not a {#MACRO} with a string value", i, k, v)
			}
		}
		for _, m := range used {
			if _, ok := e[m]; !ok {
				t.Errorf("discovery entry %d lacks %s, which the template uses", i, m)
			}
		}
	}
}
