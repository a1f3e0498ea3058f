package chaos_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// outcome is one run of one scenario.
type outcome struct {
	Scenario   string    `json:"scenario"`
	Variant    string    `json:"variant"` // short or long
	Converged  bool      `json:"converged"`
	Duplicates int       `json:"duplicates"`
	Lost       int       `json:"lost"`
	Converge   float64   `json:"convergeSeconds"` // from the end of the disruption until converged
	Note       string    `json:"note,omitempty"`
	At         time.Time `json:"at"`
}

// results collects this run's outcomes and appends each to results.jsonl.
type results struct {
	dir string
	mu  sync.Mutex
	all []outcome
}

func newResults(dir string) (*results, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the chaos output folder %s: %w", dir, err)
	}
	return &results{dir: dir}, nil
}

// record keeps one outcome and logs it in the test's output.
func (r *results) record(t *testing.T, o outcome) {
	t.Helper()
	o.At = time.Now().UTC()
	o.Variant = "short"
	if s.size.long {
		o.Variant = "long"
	}
	t.Logf("outcome: %s converged=%t duplicates=%d lost=%d converge=%.1fs %s", o.Scenario, o.Converged, o.Duplicates, o.Lost, o.Converge, o.Note)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, o)
	line, err := json.Marshal(o)
	if err != nil {
		t.Error(err)
		return
	}
	f, err := os.OpenFile(filepath.Join(r.dir, "results.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Error(err)
	}
}

// writeTable writes this run's table to table.md and returns it: one row per
// scenario, in the order the scenarios first reported.
func (r *results) writeTable() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	type row struct {
		runs, converged, duplicates, lost int
		max                               float64
	}
	var order []string
	rows := map[string]*row{}
	for _, o := range r.all {
		w, ok := rows[o.Scenario]
		if !ok {
			w = &row{}
			rows[o.Scenario] = w
			order = append(order, o.Scenario)
		}
		w.runs++
		if o.Converged {
			w.converged++
		}
		w.duplicates += o.Duplicates
		w.lost += o.Lost
		w.max = max(w.max, o.Converge)
	}
	var b strings.Builder
	b.WriteString("| scenario | runs | converged | duplicates | lost | max converge (s) |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, name := range order {
		w := rows[name]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.1f |\n", name, w.runs, w.converged, w.duplicates, w.lost, w.max)
	}
	if len(order) == 0 {
		return "", nil
	}
	if err := os.WriteFile(filepath.Join(r.dir, "table.md"), []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("writing the chaos table: %w", err)
	}
	return b.String(), nil
}
