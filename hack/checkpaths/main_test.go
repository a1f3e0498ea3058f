package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sibling spells the name of the reference folder beside our own checkouts, so
// that this file itself holds no literal reference to it.
var sibling = strings.NewReplacer("SIBLING", "sh"+"ared")

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		file, content string
		want          string // substring of the reason; "" for no finding
	}{
		{"internal/x/x_test.go", `p := filepath.Join("..", "..", "SIBLING", "fixtures")`, "sibling folder"},
		{"cmd/tug/dev.go", `dir := "../SIBLING/fixtures/dbaas"`, "sibling folder"},
		{"Makefile", `FIXTURES := ../../SIBLING/fixtures`, "sibling folder"},
		{"hack/x.sh", `cp "$root/../SIBLING/x" .`, "sibling folder"},
		{"internal/x/x.go", `const cache = "/root/.cache/tugboat"`, "absolute path"},
		{"internal/x/x.go", `dir := "/home/alice/tugboat"`, "absolute path"},
		{"internal/x/x.go", `os.ReadFile("/work/main/go.mod")`, "absolute path"},
		{"internal/x/x_test.go", `filepath.Join("..", "..", "..", "elsewhere")`, "climbs 3 folders"},
		{"api/x_test.go", `"../../outside/file.yaml"`, "climbs 2 folders"},
		// Inside the repository, system paths and documentation are fine.
		{"internal/x/x_test.go", `filepath.Join("..", "..", "examples", "dbaas")`, ""},
		{"internal/scheduler/unit_test.go", `mustLoad(t, "../../examples/kalypso")`, ""},
		{"hack/postgres.sh", `PG_LIB_DIR="${PG_LIB_DIR:-/usr/lib/postgresql}"`, ""},
		{"internal/x/x.go", `if fileExists("/dev/shm") {`, ""},
		{"Dockerfile", `RUN --mount=type=cache,target=/root/.cache/go-build`, ""},
		{"README.md", "the fixtures came from ../SIBLING/fixtures", ""},
		{"docs/history.md", "/work/main", ""},
		// This command's own folder is exempt.
		{"hack/checkpaths/main.go", `"../SIBLING/x"`, ""},
	} {
		got := Check(tc.file, []byte(sibling.Replace(tc.content)))
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%s %q: unexpected finding %v", tc.file, tc.content, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0].Why, sibling.Replace(tc.want))):
			t.Errorf("%s %q: want one finding about %q, got %v", tc.file, tc.content, tc.want, got)
		}
	}
}

// The check over a real repository: a reintroduced reference to ../SIBLING in a
// tracked file is found; the same text in an untracked file or in documentation is not.
func TestCheckRepo(t *testing.T) {
	repo := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(sibling.Replace(content)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	write("internal/fixtures/fixtures.go", "package fixtures\n\nconst dir = \"../../examples\"\n")
	write("README.md", "Fixtures once lived in ../SIBLING/fixtures.\n")
	git("add", ".")
	if got, err := CheckRepo(repo); err != nil || len(got) != 0 {
		t.Fatalf("clean repository: findings %v, err %v", got, err)
	}

	write("internal/fixtures/fixtures.go", "package fixtures\n\nconst dir = \"../../../SIBLING/fixtures\"\n")
	write("untracked.go", "package x\n\nconst dir = \"../SIBLING\"\n")
	got, err := CheckRepo(repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].File != "internal/fixtures/fixtures.go" || got[0].Line != 3 {
		t.Fatalf("want the tracked file's line 3, got %v", got)
	}
}
