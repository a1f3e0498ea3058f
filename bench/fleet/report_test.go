package main

import "testing"

func TestSpliceSection(t *testing.T) {
	const sec7 = "## 7. CloudEvents\n\nnew\n\n"
	for _, c := range []struct{ name, prev, want string }{
		{"replaces the same number", "# R\n\n## 6. GitOps\n\nsix\n\n## 7. CloudEvents\n\nold\n\n## Go benchmarks\n\ngo\n",
			"# R\n\n## 6. GitOps\n\nsix\n\n## 7. CloudEvents\n\nnew\n\n## Go benchmarks\n\ngo\n"},
		{"last section", "# R\n\n## 7. CloudEvents\n\nold\n", "# R\n\n## 7. CloudEvents\n\nnew\n\n"},
		{"before the Go benchmarks", "# R\n\n## 6. GitOps\n\nsix\n\n## Go benchmarks\n\ngo\n",
			"# R\n\n## 6. GitOps\n\nsix\n\n## 7. CloudEvents\n\nnew\n\n## Go benchmarks\n\ngo\n"},
		{"at the end", "# R\n\n## 6. GitOps\n\nsix\n", "# R\n\n## 6. GitOps\n\nsix\n\n## 7. CloudEvents\n\nnew\n\n"},
		{"a section 70 is another", "# R\n\n## 70. Other\n\nx\n", "# R\n\n## 70. Other\n\nx\n\n## 7. CloudEvents\n\nnew\n\n"},
	} {
		got, err := spliceSection(c.prev, sec7)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, err, c.want)
		}
	}
	if _, err := spliceSection("", sec7); err == nil {
		t.Error("spliced into an empty report")
	}
}
