package gitops_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/sources"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// failedWith waits until the Resources feature of the profile's summary in
// prod-1 is Failed with a message holding every part.
func failedWith(t *testing.T, profile string, parts ...string) {
	t.Helper()
	testenv.Eventually(t, profile+" Failed with "+strings.Join(parts, ", "), func() error {
		s, err := summaryOf(profile, "prod-1")
		if err != nil {
			return err
		}
		fs := resources(s)
		if fs == nil || fs.Status != libv1beta1.FeatureStatusFailed || fs.FailureMessage == nil {
			return fmt.Errorf("feature %+v", fs)
		}
		for _, p := range parts {
			if !strings.Contains(*fs.FailureMessage, p) {
				return fmt.Errorf("message %q lacks %q", *fs.FailureMessage, p)
			}
		}
		return nil
	})
}

func profileFrom(t *testing.T, name string, refs ...libv1beta1.PolicyRef) {
	t.Helper()
	cp := &configv1beta1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
			PolicyRefs:      refs,
		},
	}
	if err := mgmt.Create(context.Background(), cp); err != nil {
		t.Fatal(err)
	}
}

// Bad sources fail the summary with a message naming the source (and revision,
// path or file); what was deployed from the last good revision stays.
func TestBadSources(t *testing.T) {
	t.Run("a source that does not exist", func(t *testing.T) {
		profileFrom(t, "no-source", libv1beta1.PolicyRef{Kind: sources.GitRepository, Namespace: "flux-system", Name: "nowhere", Path: "deploy"})
		failedWith(t, "no-source", "policyRefs[0]", "GitRepository flux-system/nowhere not found")
	})

	work, ref := newSource(t, "bad", map[string]string{"deploy/good.yaml": configMapYAML("good", "kept")})
	t.Run("a path missing from the artifact", func(t *testing.T) {
		profileFrom(t, "missing-path", libv1beta1.PolicyRef{Kind: sources.GitRepository, Namespace: "flux-system", Name: "bad", Path: "nothing-here"})
		failedWith(t, "missing-path", "GitRepository flux-system/bad revision main@sha1:", `path "nothing-here" not found`)
	})

	profileFrom(t, "from-bad", libv1beta1.PolicyRef{Kind: sources.GitRepository, Namespace: "flux-system", Name: "bad", Path: "deploy"})
	prod1 := managedClient(t, "prod-1")
	testenv.Eventually(t, "good deployed", func() error {
		if v, err := configMapValue(prod1, "good"); err != nil || v != "kept" {
			return fmt.Errorf("good: %q, %v", v, err)
		}
		return nil
	})

	commit := push(t, work, ref, map[string]string{
		"deploy/good.yaml":   configMapYAML("good", "changed"),
		"deploy/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [not, a, map\n",
	})
	t.Run("an unparsable file keeps the last good state", func(t *testing.T) {
		failedWith(t, "from-bad", "GitRepository flux-system/bad revision main@sha1:"+commit, "file deploy/broken.yaml")
		if v, err := configMapValue(prod1, "good"); err != nil || v != "kept" {
			t.Errorf("good is %q, %v: the broken revision was half-applied", v, err)
		}
	})
}
