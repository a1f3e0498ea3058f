package examples_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tugboat-dev/tugboat/examples"
)

// The binaries carry the same files the folders hold, byte for byte.
func TestEmbeddedCopiesAreTheFolders(t *testing.T) {
	for dir, fsys := range map[string]fs.FS{"dbaas": examples.DBaaS(), "kalypso": examples.Kalypso(), "kalypso-tutorial": examples.KalypsoTutorial()} {
		var embedded []string
		err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			embedded = append(embedded, path)
			want, err := os.ReadFile(filepath.Join(dir, path))
			if err != nil {
				return err
			}
			if got, _ := fs.ReadFile(fsys, path); string(got) != string(want) {
				t.Errorf("%s/%s: embedded copy differs from the file", dir, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var onDisk []string
		err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, path)
				onDisk = append(onDisk, filepath.ToSlash(rel))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(embedded, onDisk) {
			t.Errorf("%s: embedded %v, folder %v", dir, embedded, onDisk)
		}
	}
}

func TestDBaaSManifest(t *testing.T) {
	for _, name := range []string{"cloudnative-pg.yaml", "auto-deploy-postgres-cluster.yaml", "fetch-postgres-data.yaml", "job-to-create-table.yaml"} {
		if b, err := examples.DBaaSManifest(name); err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
	if _, err := examples.DBaaSManifest("missing.yaml"); err == nil {
		t.Error("a missing manifest gave no error")
	}
}
