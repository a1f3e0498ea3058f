package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// tug init platform writes the starter layout, refuses to overwrite any file of
// it (writing nothing, exit 2) and overwrites with --force.
func TestUnitInitPlatform(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"init", "platform", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, stderr.String())
	}
	for _, name := range []string{"README.md", "platform/environments/development/profile.yaml", "platform/environments/staging/baseline.yaml",
		"platform/environments/production/profile.yaml", "platform/events/namespace-quota.yaml", "platform/clusters/README.md"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
		if !strings.Contains(stdout.String(), "wrote "+filepath.Join(dir, name)) {
			t.Errorf("output does not name %s:\n%s", name, stdout.String())
		}
	}
	if !strings.Contains(stdout.String(), "tug bootstrap git --url") {
		t.Errorf("output does not name the bootstrap command:\n%s", stdout.String())
	}

	// One existing file: nothing is written, the file is kept.
	other := filepath.Join(t.TempDir(), "repo")
	mine := filepath.Join(other, "platform", "environments", "development", "profile.yaml")
	if err := os.MkdirAll(filepath.Dir(mine), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mine, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"init", "platform", other}, &stdout, &stderr)
	want := "tug: " + other + " already holds platform/environments/development/profile.yaml: not overwritten (use --force to overwrite)\n"
	if code != 2 || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("exit code %d, stderr %q (want %q), stdout %q", code, stderr.String(), want, stdout.String())
	}
	if b, _ := os.ReadFile(mine); string(b) != "mine\n" {
		t.Errorf("existing file changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(other, "README.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("README.md written although the command refused: %v", err)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"init", "platform", other, "--force"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--force: exit code %d, stderr %q", code, stderr.String())
	}
	if b, _ := os.ReadFile(mine); string(b) == "mine\n" {
		t.Error("--force did not overwrite")
	}
}

// The environments' profiles carry a placeholder chart repository, which
// --chart-repository replaces in every profile; a URL that is not one is a usage error.
func TestUnitInitPlatformChartRepository(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"init", "platform", dir, "--chart-repository", "http://127.0.0.1:8879"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, stderr.String())
	}
	for _, env := range []string{"development", "staging", "production"} {
		b, err := os.ReadFile(filepath.Join(dir, "platform", "environments", env, "profile.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "repositoryURL: http://127.0.0.1:8879") || strings.Contains(string(b), starterChartRepository) {
			t.Errorf("%s/profile.yaml does not name the given chart repository:\n%s", env, b)
		}
		if !strings.Contains(string(b), "env: "+env) {
			t.Errorf("%s/profile.yaml does not select env=%s:\n%s", env, env, b)
		}
	}
	stderr.Reset()
	if code := run([]string{"init", "platform", t.TempDir(), "--chart-repository", "charts"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--chart-repository") {
		t.Errorf("--chart-repository charts: exit code %d, stderr %q", code, stderr.String())
	}
}

// Every object of the starter layout is valid against Tugboat's CRDs: the API
// server accepts each (server-side dry run, nothing stays behind).
func TestInitPlatformExamplesAreValid(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := initPlatform(dir, false, "", io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tugboat-platform"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	err := filepath.WalkDir(filepath.Join(dir, "platform"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				t.Errorf("%s: %v", path, err)
				return nil
			}
			if len(u.Object) == 0 {
				continue
			}
			if err := mgmt.Create(ctx, u, client.DryRunAll); err != nil {
				t.Errorf("%s: %s %s refused: %v", path, u.GetKind(), u.GetName(), err)
			}
			kinds[u.GetKind()]++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for kind, n := range map[string]int{"ClusterProfile": 3, "ConfigMap": 4, "EventSource": 1, "EventTrigger": 1} {
		if kinds[kind] != n {
			t.Errorf("%d %s objects, want %d (all: %v)", kinds[kind], kind, n, kinds)
		}
	}
}
