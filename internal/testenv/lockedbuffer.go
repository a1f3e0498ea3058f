package testenv

import (
	"bytes"
	"sync"
)

// LockedBuffer keeps everything written to it and is safe for concurrent
// writers and readers: a manager's or a command's output that a test reads
// while it runs. The zero value is empty and ready to use.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Since returns what was written after offset, and the new offset.
func (b *LockedBuffer) Since(offset int) ([]byte, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data := b.buf.Bytes()
	return bytes.Clone(data[offset:]), len(data)
}

// Lines returns the lines written so far.
func (b *LockedBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []string
	for _, l := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		lines = append(lines, string(l))
	}
	return lines
}
