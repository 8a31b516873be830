package consultest

import (
	"os"
	"testing"

	"github.com/hashicorp/consul/api"
)

// PolicyToken creates, through admin (a management token's client), an ACL
// policy named name from the rules in file and a token holding only that
// policy, and returns the token's secret. A policy the ACL API refuses
// fails the test with the file's name.
func PolicyToken(t testing.TB, admin *api.Client, name, file string) string {
	t.Helper()
	rules, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := admin.ACL().PolicyCreate(&api.ACLPolicy{Name: name, Rules: string(rules)}, nil)
	if err != nil {
		t.Fatalf("%s: the ACL API refused it: %v", file, err)
	}
	tok, _, err := admin.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.SecretID
}
