package main

import (
	"os/exec"
	"strings"
	"testing"
)

// tug links none of Tugboat's test harnesses (they import package testing and
// start clusters for tests): an installed tug is a program, not a test binary.
// Helm's SDK itself imports testing (for testing.Testing), which is not ours to change.
func TestTugLinksNoTestHarness(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports ","}}`, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const module = "github.com/tugboat-dev/tugboat/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		if strings.HasSuffix(pkg, "test") || strings.HasSuffix(pkg, "testenv") {
			t.Errorf("tug links the test harness %s", pkg)
		}
		for _, imp := range strings.Split(imports, ",") {
			if imp == "testing" {
				t.Errorf("%s (linked by tug) imports package testing", pkg)
			}
		}
	}
}
