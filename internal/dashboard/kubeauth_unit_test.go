package dashboard

import (
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The authentication mode is checked: the kubernetes mode needs no token
// Secret, an unknown mode is refused by name.
func TestUnitAuthOptions(t *testing.T) {
	secret := types.NamespacedName{Namespace: "ns", Name: "s"}
	for _, tc := range []struct {
		opts Options
		err  string
	}{
		{Options{Address: ":1", TokenSecret: secret}, ""},
		{Options{Address: ":1", Auth: AuthToken}, "token Secret"},
		{Options{Address: ":1", Auth: AuthKubernetes}, ""},
		{Options{Address: ":1", Auth: "oidc"}, `unknown dashboard authentication "oidc"`},
	} {
		err := tc.opts.Check()
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: %v, want %q", tc.opts, err, tc.err)
		}
	}
}

// Sessions of the kubernetes mode are random ids, end at their expiry and
// on logout.
func TestUnitSessions(t *testing.T) {
	var ss sessions
	u := &user{UserInfo: authenticationv1.UserInfo{Username: "alice"}}
	id, err := ss.add(u, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ss.add(u, time.Now().Add(-time.Second))
	if len(id) != 64 || id == other {
		t.Errorf("session ids %q, %q", id, other)
	}
	if got := ss.get(id); got != u {
		t.Errorf("session %q: %v", id, got)
	}
	if got := ss.get(other); got != nil {
		t.Errorf("an expired session: %v", got)
	}
	ss.remove(id)
	if got := ss.get(id); got != nil {
		t.Errorf("a session after logout: %v", got)
	}
}
