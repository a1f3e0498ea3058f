package e2e_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// secretValue is a value that must not leave Secrets: what it is, and the value.
type secretValue struct{ what, value string }

// objectAllowed says whether an object may hold a secret value because the
// user's own manifest puts it there (the tutorial's Job passes the password in
// an environment variable).
type objectAllowed func(cluster string, gvr schema.GroupVersionResource, u *unstructured.Unstructured) bool

// assertNoSecretValues fails t for every line of the manager's log and every
// object, other than Secrets, in every test cluster (Events included) that
// holds one of values — as is, base64-encoded, or base64 inside base64 (the
// way a Secret's YAML would be carried in a field).
func assertNoSecretValues(t *testing.T, values []secretValue, allowed objectAllowed) {
	t.Helper()
	lines := managerLog.Lines()
	if len(lines) < 100 {
		t.Fatalf("the manager logged %d lines: the log is not being captured", len(lines))
	}
	debugLines := 0
	for i, line := range lines {
		if strings.Contains(line, "DEBUG") {
			debugLines++
		}
		if found := secretsIn(line, values, 0); len(found) > 0 {
			t.Errorf("manager log line %d holds %s: %.300s", i+1, strings.Join(found, ", "), line)
		}
	}
	if debugLines == 0 {
		t.Errorf("no debug line among the manager's %d log lines: not logging at debug level", len(lines))
	}
	objects := 0
	for _, name := range clusterNames {
		n, err := scanCluster(name, values, allowed, func(format string, args ...any) { t.Errorf(format, args...) })
		if err != nil {
			t.Fatalf("cluster %s: %v", name, err)
		}
		objects += n
	}
	t.Logf("looked for %d secret values in %d log lines (%d at debug level) and %d objects of %d clusters", len(values), len(lines), debugLines, objects, len(clusterNames))
}

// scanCluster lists every listable resource of a cluster but Secrets and
// reports objects holding a secret value; it returns how many it read.
func scanCluster(name string, values []secretValue, allowed objectAllowed, report func(string, ...any)) (int, error) {
	cfg := rest.CopyConfig(env.Cluster(name).Config)
	cfg.WarningHandler = rest.NoWarnings{} // deprecated kinds are listed too
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return 0, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	lists, err := disc.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return 0, err
	}
	objects := 0
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			return objects, err
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || (gv.Group == "" && r.Name == "secrets") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			items, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{})
			if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
				continue
			}
			if err != nil {
				return objects, fmt.Errorf("listing %s: %w", gvr, err)
			}
			for i := range items.Items {
				u := &items.Items[i]
				objects++
				data, err := json.Marshal(u.Object)
				if err != nil {
					return objects, err
				}
				found := secretsIn(string(data), values, 0)
				if len(found) == 0 || allowed(name, gvr, u) {
					continue
				}
				report("cluster %s: %s %s/%s holds %s", name, gvr.Resource, u.GetNamespace(), u.GetName(), strings.Join(found, ", "))
			}
		}
	}
	return objects, nil
}

// base64Run is a run of characters that may be base64.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/]{12,}={0,2}`)

// secretsIn names the values text holds, looking into base64 runs up to two
// levels deep.
func secretsIn(text string, values []secretValue, depth int) []string {
	var found []string
	for _, v := range values {
		if strings.Contains(text, v.value) {
			found = append(found, v.what)
		}
	}
	if depth >= 2 {
		return found
	}
	for _, run := range base64Run.FindAllString(text, -1) {
		decoded, err := base64.StdEncoding.DecodeString(run)
		if err != nil {
			continue
		}
		for _, f := range secretsIn(string(decoded), values, depth+1) {
			if !slices.Contains(found, f) {
				found = append(found, f+" (base64)")
			}
		}
	}
	return found
}

// kubeconfigKeyLine is a line of the body of a cluster's client key, which
// would show if its kubeconfig (or the key) were copied anywhere.
func kubeconfigKeyLine(t *testing.T, cluster string) secretValue {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(env.Cluster(cluster).Config.KeyData)), "\n")
	if len(lines) < 3 {
		t.Fatalf("client key of %s: %d lines", cluster, len(lines))
	}
	return secretValue{what: "the client key of " + cluster + "'s kubeconfig", value: lines[1]}
}
