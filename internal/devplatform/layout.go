package devplatform

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LayoutFile is one file of a layout (such as tug's starter platform layout):
// its slash-separated path inside the layout and its content.
type LayoutFile struct {
	Path string
	Data []byte
}

// ReadLayout reads every file of layout, in walk order, passing the content of
// each .yaml file through rewriteYAML when it is not nil (to point the layout at
// another chart repository, for instance).
func ReadLayout(layout fs.FS, rewriteYAML func([]byte) []byte) ([]LayoutFile, error) {
	var files []LayoutFile
	err := fs.WalkDir(layout, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(layout, p)
		if err != nil {
			return err
		}
		if rewriteYAML != nil && strings.HasSuffix(p, ".yaml") {
			data = rewriteYAML(data)
		}
		files = append(files, LayoutFile{Path: p, Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// WriteLayout writes files below dir, creating the folders they need and
// overwriting what is there, and calls wrote (when not nil) with the path of
// each file written.
func WriteLayout(dir string, files []LayoutFile, wrote func(target string)) error {
	for _, f := range files {
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", filepath.Dir(target), err)
		}
		if err := os.WriteFile(target, f.Data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", target, err)
		}
		if wrote != nil {
			wrote(target)
		}
	}
	return nil
}
