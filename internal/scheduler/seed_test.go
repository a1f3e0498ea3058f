package scheduler

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

const seedDir = "../../examples/kalypso-tutorial"

// dirSource serves repositories from local folders, by URL.
type dirSource map[string]string

func (d dirSource) Open(_ context.Context, ref v1alpha1.RepositoryReference) (fs.FS, error) {
	dir, ok := d[ref.Repo]
	if !ok {
		return nil, fmt.Errorf("unknown repository %s", ref.Repo)
	}
	return os.DirFS(dir), nil
}

func seedSource() dirSource {
	return dirSource{"https://github.com/kaizen/kalypso-app-src": filepath.Join(seedDir, "app-src")}
}

func mustLoad(t *testing.T, dir string) *Manifests {
	t.Helper()
	m, err := Load(os.DirFS(dir), ".")
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	return m
}

func mustLoadFile(t *testing.T, file string) *Manifests {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadBytes(file, raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// seedEnv is main overlaid with the environment's branch, plus extra overlays.
func seedEnv(t *testing.T, env string, overlays ...string) *Manifests {
	t.Helper()
	m := Merge(mustLoad(t, filepath.Join(seedDir, "control-plane", "main")), mustLoad(t, filepath.Join(seedDir, "control-plane", env)))
	for _, o := range overlays {
		m = Merge(m, mustLoadFile(t, o))
	}
	return m
}

func schedule(t *testing.T, env string, m *Manifests) *Result {
	t.Helper()
	res := Schedule(context.Background(), env, m, seedSource())
	if err := res.Err(); err != nil {
		t.Fatalf("scheduling %s: %v", env, err)
	}
	return res
}

func paths(files map[string][]byte) []string {
	out := make([]string, 0, len(files))
	for p := range files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func targetFiles(ct, target string) []string {
	return []string{ct + "/" + target + "/namespace.yaml", ct + "/" + target + "/platform-config.yaml", ct + "/" + target + "/reconciler.yaml"}
}

func TestSeedDev(t *testing.T) {
	res := schedule(t, "dev", seedEnv(t, "dev"))

	wantAssign := []Assignment{
		{ClusterType: "drone", DeploymentTarget: "hello-world-app-functional-test"},
		{ClusterType: "large", DeploymentTarget: "hello-world-app-performance-test"},
	}
	if !reflect.DeepEqual(res.Assignments, wantAssign) {
		t.Fatalf("assignments = %+v, want %+v", res.Assignments, wantAssign)
	}
	want := append(append([]string{".github/tracking/Promoted_Commit_Id", "drone/README.md"},
		targetFiles("drone", "hello-world-app-functional-test")...), "large/README.md")
	want = append(want, targetFiles("large", "hello-world-app-performance-test")...)
	sort.Strings(want)
	if got := paths(res.Files); !reflect.DeepEqual(got, want) {
		t.Fatalf("files = %v\nwant %v", got, want)
	}

	// The three files of functional-test on drone are exactly those the tutorial shows.
	exp := filepath.Join(seedDir, "expected", "dev", "drone", "hello-world-app-functional-test")
	for _, f := range []string{"namespace.yaml", "platform-config.yaml", "reconciler.yaml"} {
		raw, err := os.ReadFile(filepath.Join(exp, f))
		if err != nil {
			t.Fatal(err)
		}
		got := string(res.Files["drone/hello-world-app-functional-test/"+f])
		if got != string(raw) {
			t.Errorf("%s:\n--- got\n%s\n--- want\n%s", f, got, raw)
		}
	}

	large := string(res.Files["large/hello-world-app-performance-test/platform-config.yaml"])
	for _, s := range []string{"namespace: dev-large-hello-world-app-performance-test", "CLUSTER_NAME: Large",
		"DATABASE_URL: mysql://shared-host:3306/mysql", "REGION: China East 2", "ENVIRONMENT: Dev"} {
		if !strings.Contains(large, s) {
			t.Errorf("large platform-config lacks %q:\n%s", s, large)
		}
	}
	rec := string(res.Files["large/hello-world-app-performance-test/reconciler.yaml"])
	if !strings.Contains(rec, `path: "./performance-test"`) || !strings.Contains(rec, "kind: Kustomization") {
		t.Errorf("large reconciler:\n%s", rec)
	}
	if got := string(res.Files[".github/tracking/Promoted_Commit_Id"]); got != "3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b\n" {
		t.Errorf("promoted commit = %q", got)
	}
}

func TestSeedStage(t *testing.T) {
	m := seedEnv(t, "stage")
	res := schedule(t, "stage", m)
	var cts []string
	for _, ct := range m.ClusterTypes {
		cts = append(cts, ct.Name)
	}
	if len(cts) != 2 {
		t.Fatalf("stage cluster types = %v", cts)
	}
	var want []Assignment
	for _, ct := range cts {
		want = append(want, Assignment{ClusterType: ct, DeploymentTarget: "hello-world-app-uat-test"})
	}
	if !reflect.DeepEqual(res.Assignments, want) {
		t.Fatalf("assignments = %+v, want uat-test on every cluster type %v", res.Assignments, want)
	}
	for _, ct := range cts {
		for _, f := range targetFiles(ct, "hello-world-app-uat-test") {
			if _, ok := res.Files[f]; !ok {
				t.Errorf("missing %s", f)
			}
		}
		ns := string(res.Files[ct+"/hello-world-app-uat-test/namespace.yaml"])
		if !strings.Contains(ns, `name: "stage-`+ct+`-hello-world-app-uat-test"`) || !strings.Contains(ns, `environment: "stage"`) {
			t.Errorf("%s namespace:\n%s", ct, ns)
		}
		rec := string(res.Files[ct+"/hello-world-app-uat-test/reconciler.yaml"])
		if !strings.Contains(rec, `branch: "stage"`) || !strings.Contains(rec, `path: "./uat-test"`) {
			t.Errorf("%s reconciler:\n%s", ct, rec)
		}
	}
	drone := string(res.Files["drone/hello-world-app-uat-test/platform-config.yaml"])
	want1 := `apiVersion: v1
kind: ConfigMap
metadata:
  name: platform-config
  namespace: stage-drone-hello-world-app-uat-test
data:
  CLUSTER_NAME: Drone
  DATABASE_URL: mysql://restricted-host:3306/mysqlrty123
  ENVIRONMENT: Stage
  REGION: China North 3
  SOME_COMMON_ENVIRONMENT_VARIABLE: "false"
`
	if drone != want1 {
		t.Errorf("drone platform-config:\n%s\nwant\n%s", drone, want1)
	}
}

// The tutorial's step 4: the stage china-north-3 ConfigMap gets a database URL.
func TestSeedStageConfigChange(t *testing.T) {
	before := schedule(t, "stage", seedEnv(t, "stage"))
	after := schedule(t, "stage", seedEnv(t, "stage", filepath.Join(seedDir, "steps", "china-north-3-config.yaml")))
	changed := DiffTrees(before.Files, after.Files)
	want := []Change{{Path: "drone/hello-world-app-uat-test/platform-config.yaml", Kind: Modified}}
	if !reflect.DeepEqual(changed, want) {
		t.Fatalf("changes = %+v, want %+v", changed, want)
	}
	if got := string(after.Files[want[0].Path]); !strings.Contains(got, "DATABASE_URL: mysql://west-stage:8806/mysql2") {
		t.Errorf("new platform-config:\n%s", got)
	}
}

// The tutorial's step 5: adding cluster type small to stage assigns uat-test to it.
func TestSeedStageAddSmall(t *testing.T) {
	before := schedule(t, "stage", seedEnv(t, "stage"))
	after := schedule(t, "stage", seedEnv(t, "stage", filepath.Join(seedDir, "steps", "small-cluster-type.yaml")))
	found := false
	for _, a := range after.Assignments {
		if a == (Assignment{ClusterType: "small", DeploymentTarget: "hello-world-app-uat-test"}) {
			found = true
		}
	}
	if !found {
		t.Fatalf("uat-test not assigned to small: %+v", after.Assignments)
	}
	var added []string
	for _, c := range DiffTrees(before.Files, after.Files) {
		if c.Kind != Added {
			t.Errorf("unexpected change %+v", c)
		}
		added = append(added, c.Path)
	}
	want := append([]string{"small/README.md"}, targetFiles("small", "hello-world-app-uat-test")...)
	sort.Strings(want)
	if !reflect.DeepEqual(added, want) {
		t.Fatalf("added %v, want %v", added, want)
	}
	cfg := string(after.Files["small/hello-world-app-uat-test/platform-config.yaml"])
	if !strings.Contains(cfg, "REGION: China North 3") || !strings.Contains(cfg, "DATABASE_URL: mysql://shared-host:3306/mysql") {
		t.Errorf("small platform-config:\n%s", cfg)
	}
}

func TestSeedDeterministic(t *testing.T) {
	for _, env := range []string{"dev", "stage"} {
		a := schedule(t, env, seedEnv(t, env))
		for i := 0; i < 5; i++ {
			b := schedule(t, env, seedEnv(t, env))
			if !reflect.DeepEqual(a.Files, b.Files) || !reflect.DeepEqual(a.Assignments, b.Assignments) {
				t.Fatalf("%s: run %d differs", env, i)
			}
		}
	}
}

// A Workload kept in the control plane itself is used without fetching.
func TestWorkloadInTree(t *testing.T) {
	m := Merge(seedEnv(t, "dev"), mustLoad(t, filepath.Join(seedDir, "app-src")))
	res := Schedule(context.Background(), "dev", m, nil)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if len(res.Assignments) != 2 {
		t.Fatalf("assignments %+v", res.Assignments)
	}
}

// An Argo CD cluster type gets an Application.
func TestSeedArgoClusterType(t *testing.T) {
	m := seedEnv(t, "stage", filepath.Join(seedDir, "control-plane", "dev", "cluster-types", "china-north-3", "command-center", "command-center.yaml"))
	res := schedule(t, "stage", m)
	rec := string(res.Files["command-center/hello-world-app-uat-test/reconciler.yaml"])
	for _, s := range []string{"kind: Application", `namespace: "stage-command-center-hello-world-app-uat-test"`, `targetRevision: "stage"`} {
		if !strings.Contains(rec, s) {
			t.Errorf("argo reconciler lacks %q:\n%s", s, rec)
		}
	}
}
