package support

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// archiveWriter writes a .tar.gz archive to a temporary file beside its final
// path and renames it there on Close, so a half-written archive is never seen
// under its final name.
type archiveWriter struct {
	path    string
	tmp     *os.File
	gz      *gzip.Writer
	tw      *tar.Writer
	modTime time.Time
	files   int
}

func newArchive(path string, modTime time.Time) (*archiveWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating the archive folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".partial-*")
	if err != nil {
		return nil, fmt.Errorf("creating the archive: %w", err)
	}
	gz := gzip.NewWriter(tmp)
	return &archiveWriter{path: path, tmp: tmp, gz: gz, tw: tar.NewWriter(gz), modTime: modTime}, nil
}

// add writes one file.
func (a *archiveWriter) add(name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o640, Size: int64(len(data)), ModTime: a.modTime, Typeflag: tar.TypeReg}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s into the archive: %w", name, err)
	}
	if _, err := a.tw.Write(data); err != nil {
		return fmt.Errorf("writing %s into the archive: %w", name, err)
	}
	a.files++
	return nil
}

// close finishes the archive and moves it to its path; it returns the size.
func (a *archiveWriter) close() (int64, error) {
	err := a.tw.Close()
	if err == nil {
		err = a.gz.Close()
	}
	if err == nil {
		err = a.tmp.Sync()
	}
	if cerr := a.tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(a.tmp.Name())
		return 0, fmt.Errorf("finishing the archive %s: %w", a.path, err)
	}
	info, err := os.Stat(a.tmp.Name())
	if err != nil {
		return 0, err
	}
	if err := os.Rename(a.tmp.Name(), a.path); err != nil {
		_ = os.Remove(a.tmp.Name())
		return 0, fmt.Errorf("moving the archive to %s: %w", a.path, err)
	}
	return info.Size(), nil
}

// abort drops the partial archive.
func (a *archiveWriter) abort() {
	_ = a.tmp.Close()
	_ = os.Remove(a.tmp.Name())
}
