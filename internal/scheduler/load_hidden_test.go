package scheduler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// ciTemplate is the control plane's CI template of the reference system, as its
// bootstrap leaves it on main: a BaseRepo named "$branch".
const ciTemplate = "control-plane/main/.github/workflows/utils/baserepo-template.yaml"

// TestLoadSkipsHiddenFolders: the CI template under .github is not configuration,
// the Environments under .environments are, and the rendered Promoted_Commit_Id
// is the environment's own BaseRepo commit.
func TestLoadSkipsHiddenFolders(t *testing.T) {
	main := mustLoad(t, filepath.Join(seedDir, "control-plane", "main"))
	if len(main.BaseRepos) != 0 {
		t.Fatalf("main's BaseRepos %+v: the CI template was read", main.BaseRepos)
	}
	if len(main.Environments) != 2 {
		t.Fatalf("environments %d, want dev and stage from .environments", len(main.Environments))
	}
	res := schedule(t, "dev", seedEnv(t, "dev"))
	got := strings.TrimSpace(string(res.Files[PromotedCommitFile]))
	if got != "3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b" {
		t.Fatalf("%s = %q, want dev's BaseRepo commit", PromotedCommitFile, got)
	}
}

// TestLoadRejectsInvalidNames: the same template outside a hidden folder is an
// error naming the file and the name, not a BaseRepo.
func TestLoadRejectsInvalidNames(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(seedDir, ciTemplate))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"workflows/utils/baserepo-template.yaml": &fstest.MapFile{Data: raw}}
	_, err = Load(fsys, ".")
	if err == nil {
		t.Fatal("loaded a BaseRepo named $branch")
	}
	for _, want := range []string{"workflows/utils/baserepo-template.yaml", `"$branch"`, "BaseRepo", "not a valid Kubernetes name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	// A hidden folder below the root is skipped wherever it is; the root itself is read.
	fsys = fstest.MapFS{
		"env/.github/t.yaml": &fstest.MapFile{Data: raw},
		"env/ok.yaml":        &fstest.MapFile{Data: []byte("apiVersion: scheduler.kalypso.io/v1alpha1\nkind: BaseRepo\nmetadata: {name: dev}\nspec: {repo: r, branch: main, path: .}\n")},
	}
	m, err := Load(fsys, "env")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.BaseRepos) != 1 || m.BaseRepos[0].Name != "dev" {
		t.Fatalf("base repos %+v", m.BaseRepos)
	}
}
