// Command checkpaths fails when a tracked file other than documentation refers to
// a path outside the repository: a sibling folder beside the checkout, a relative
// path that climbs above the repository root, or an absolute path of one
// machine (/root/…, /home/<user>/…, /work/…, /Users/…). The product, its tests
// and its scripts read only what the repository holds. `make lint` runs it.
//
//	go run ./hack/checkpaths [REPO]
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
)

// Finding is one reference to a path outside the repository.
type Finding struct {
	File string
	Line int
	Text string
	Why  string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Why, strings.TrimSpace(f.Text))
}

var (
	// sharedDir is the reference folder "shared" beside our own checkouts, reached
	// by any number of "../".
	sharedDir = regexp.MustCompile(`(\.\./)+shared\b|"\.\."\s*,\s*("\.\."\s*,\s*)*"shared"`)
	// machinePath is an absolute path that exists only on some machine.
	machinePath = regexp.MustCompile(`(^|[\s"'=:(])(/root/|/work/|/Users/|/home/[A-Za-z0-9._-]+/)`)
	// climbSlash and climbJoin are relative paths going up: ../../x and
	// filepath.Join("..", "..", …).
	climbSlash = regexp.MustCompile(`(?:^|[^.\w/])((?:\.\./)+)`)
	climbJoin  = regexp.MustCompile(`"\.\."(?:\s*,\s*"\.\.")*`)
)

// exempt: documentation may tell where things came from, and this command's own
// folder names the very references it looks for.
func exempt(file string) bool {
	return strings.HasSuffix(file, ".md") || strings.HasPrefix(file, "docs/") || path.Base(file) == "LICENSE" ||
		strings.HasPrefix(file, "hack/checkpaths/")
}

// Check reads one file's content and returns its findings. file is the path
// relative to the repository root (it decides how far a relative path may climb).
func Check(file string, content []byte) []Finding {
	if exempt(file) || bytes.IndexByte(content, 0) >= 0 {
		return nil
	}
	depth := 0
	if dir := path.Dir(file); dir != "." {
		depth = strings.Count(dir, "/") + 1
	}
	// A Dockerfile's absolute paths are the image's, not a machine's.
	image := path.Base(file) == "Dockerfile"
	var out []Finding
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		add := func(why string) { out = append(out, Finding{File: file, Line: n, Text: line, Why: why}) }
		switch {
		case sharedDir.MatchString(line):
			add("refers to the sibling folder 'shared' beside the repository")
		case machinePath.MatchString(line) && !image:
			add("refers to an absolute path of one machine")
		default:
			up := 0
			for _, m := range climbSlash.FindAllStringSubmatch(line, -1) {
				up = max(up, strings.Count(m[1], "../"))
			}
			for _, m := range climbJoin.FindAllString(line, -1) {
				up = max(up, strings.Count(m, `".."`))
			}
			if up > depth {
				add(fmt.Sprintf("climbs %d folders up from %s, above the repository root", up, path.Dir(file)))
			}
		}
	}
	return out
}

// CheckRepo checks every file git tracks in repo.
func CheckRepo(repo string) ([]Finding, error) {
	out, err := exec.Command("git", "-C", repo, "ls-files", "-z").Output()
	if err != nil {
		return nil, fmt.Errorf("listing the tracked files of %s: %w", repo, err)
	}
	var findings []Finding
	for _, file := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if file == "" {
			continue
		}
		content, err := os.ReadFile(path.Join(repo, file))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the work tree, not yet committed
			}
			return nil, err
		}
		findings = append(findings, Check(file, content)...)
	}
	return findings, nil
}

func main() {
	repo := "."
	if len(os.Args) > 1 {
		repo = os.Args[1]
	}
	findings, err := CheckRepo(repo)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkpaths:", err)
		os.Exit(1)
	}
	for _, f := range findings {
		fmt.Fprintln(os.Stderr, f)
	}
	if len(findings) > 0 {
		fmt.Fprintf(os.Stderr, "checkpaths: %d references to paths outside the repository (the repository must hold everything it reads)\n", len(findings))
		os.Exit(1)
	}
}
