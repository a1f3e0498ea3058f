package gitops

import (
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

func TestSetBaseRepoCommit(t *testing.T) {
	const c = "9c01aa0000000000000000000000000000000000"
	tests := []struct {
		name, in string
		want     string
	}{
		{"replaces the commit line", "# pinned by promotion\napiVersion: scheduler.kalypso.io/v1alpha1\nkind: BaseRepo\nmetadata:\n  name: stage\nspec:\n  repo: r\n  branch: main\n  path: .\n  commit: 3f2a  # old\n",
			"# pinned by promotion\napiVersion: scheduler.kalypso.io/v1alpha1\nkind: BaseRepo\nmetadata:\n  name: stage\nspec:\n  repo: r\n  branch: main\n  path: .\n  commit: " + c + "\n"},
		{"adds it under spec", "apiVersion: scheduler.kalypso.io/v1alpha1\nkind: BaseRepo\nmetadata:\n  name: stage\nspec:\n    repo: r\n    branch: main\n    path: .\n",
			"apiVersion: scheduler.kalypso.io/v1alpha1\nkind: BaseRepo\nmetadata:\n  name: stage\nspec:\n    commit: " + c + "\n    repo: r\n    branch: main\n    path: .\n"},
		{"only the loader's document", "---\napiVersion: scheduler.kalypso.io/v1alpha1\nkind: GitOpsRepo\nmetadata: {name: stage}\nspec:\n  repo: g\n  branch: stage\n  path: .\n---\n---\napiVersion: scheduler.kalypso.io/v1alpha1\nkind: BaseRepo\nmetadata: {name: stage}\nspec:\n  repo: r\n  branch: main\n  path: .\n  commit: old\n",
			"---\napiVersion: scheduler.kalypso.io/v1alpha1\nkind: GitOpsRepo\nmetadata: {name: stage}\nspec:\n  repo: g\n  branch: stage\n  path: .\n---\n---\napiVersion: scheduler.kalypso.io/v1alpha1\nkind: BaseRepo\nmetadata: {name: stage}\nspec:\n  repo: r\n  branch: main\n  path: .\n  commit: " + c + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := scheduler.LoadBytes("base-repo.yaml", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			_, doc, err := splitOrigin(m.Origins["BaseRepo/stage"])
			if err != nil {
				t.Fatal(err)
			}
			got, err := SetBaseRepoCommit([]byte(tc.in), doc, c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
			after, err := scheduler.LoadBytes("base-repo.yaml", got)
			if err != nil || len(after.BaseRepos) != 1 || after.BaseRepos[0].Spec.Commit != c {
				t.Fatalf("reloaded: %v %+v", err, after)
			}
			if strings.Count(string(got), "commit:") != 1 {
				t.Fatal("more than one commit line")
			}
		})
	}
}
