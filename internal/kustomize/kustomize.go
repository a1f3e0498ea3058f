// Package kustomize builds kustomizations held in ConfigMaps and Secrets with
// sigs.k8s.io/kustomize/api (krusty), entirely on an in-memory filesystem.
//
// # Source layout
//
// The source is a set of files, as a ConfigMap's data/binaryData or a Secret's
// data. Each entry is either
//   - a file, the key being its name (a ConfigMap key cannot hold "/", so such
//     files sit at the root; callers with other sources may pass keys with "/"), or
//   - an archive: a key ending in .tar.gz, .tgz or .tar, or any value starting with
//     the gzip magic bytes, whose entries are unpacked at the root (leading "./"
//     stripped). This is how a folder tree (a base and overlays) is shipped:
//     `tar czf kustomize.tar.gz base overlays` then
//     `kubectl create configmap my-app --from-file=kustomize.tar.gz`.
//
// Options.Path selects the kustomization folder inside that tree (empty: the root).
//
// # Components
//
// Options.Components are folders (relative to Options.Path, inside the source)
// holding kustomizations of kind Component. They are listed in the components
// field of the generated wrapper kustomization, so kustomize applies them to
// the selected kustomization's output, after its own components, exactly as a
// components entry of a kustomization.yaml would.
//
// # Target namespace
//
// Options.TargetNamespace is applied by kustomize itself: the selected folder is
// wrapped by a generated kustomization with a `namespace:` field, so the usual
// kustomize rules hold (cluster-scoped kinds it knows are left alone, role binding
// subjects follow).
//
// # Values
//
// When Options.Values is not empty, the built YAML is a Go template (sprig and
// Tugboat's conversion functions, missing keys are errors) executed with Values as
// data, so `{{ .Region }}` placeholders in the output are replaced, as Sveltos does
// for kustomizationRefs' values. Placeholders must sit where YAML accepts them
// (e.g. quoted: `region: "{{ .Region }}"`) since kustomize parses the files first.
// Without values the output is used as built.
package kustomize

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/internal/templating"
)

// MaxArchiveSize bounds the unpacked size of an archive entry (ConfigMaps and
// Secrets are at most 1 MiB, so real kustomizations are far below this).
const MaxArchiveSize = 64 << 20

// srcRoot is where the source tree lives in the in-memory filesystem; the root
// itself is kept for the generated wrapper kustomization.
const srcRoot = "/src"

// Options tune Build.
type Options struct {
	// Path of the kustomization folder inside the source; empty means its root.
	Path string
	// TargetNamespace, when set, is the namespace of every namespaced output object.
	TargetNamespace string
	// Values, when not empty, are the data of the output seen as a template.
	Values map[string]string
	// Funcs are extra template functions for the values substitution.
	Funcs template.FuncMap
	// Source names the source in errors (e.g. "ConfigMap default/app").
	Source string
	// Components are folders of Kustomize components, relative to Path inside
	// the source, added to the build (see the package documentation).
	Components []string
}

// FilesFromConfigMap returns the files of a ConfigMap: data and binaryData.
func FilesFromConfigMap(cm *corev1.ConfigMap) map[string][]byte {
	files := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		files[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		files[k] = v
	}
	return files
}

// FilesFromSecret returns the files of a Secret (its decoded data and stringData).
func FilesFromSecret(s *corev1.Secret) map[string][]byte {
	files := make(map[string][]byte, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		files[k] = v
	}
	for k, v := range s.StringData {
		files[k] = []byte(v)
	}
	return files
}

// Build runs kustomize over files as described in the package documentation and
// returns the resulting objects in kustomize's output order.
func Build(files map[string][]byte, opts Options) ([]*unstructured.Unstructured, error) {
	source := opts.Source
	if source == "" {
		source = "kustomization source"
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("kustomize %s path %q: %w", source, opts.Path, fmt.Errorf(format, args...))
	}

	fs := filesys.MakeFsInMemory()
	if err := fs.MkdirAll(srcRoot); err != nil {
		return nil, fail("%w", err)
	}
	if err := populate(fs, files); err != nil {
		return nil, fail("%w", err)
	}

	dir, err := cleanRel(opts.Path)
	if err != nil {
		return nil, fail("%w", err)
	}
	target := path.Join(srcRoot, dir)
	if !fs.IsDir(target) {
		return nil, fail("no folder %q in the source (folders with a kustomization: %s)", opts.Path, kustomizationDirs(fs))
	}
	if !hasKustomization(fs, target) {
		return nil, fail("no kustomization.yaml in %q (folders with a kustomization: %s)", opts.Path, kustomizationDirs(fs))
	}

	components, err := componentDirs(fs, dir, opts.Components)
	if err != nil {
		return nil, fail("%w", err)
	}
	if opts.TargetNamespace != "" || len(components) > 0 {
		wrapper := map[string]any{
			"apiVersion": "kustomize.config.k8s.io/v1beta1",
			"kind":       "Kustomization",
			"resources":  []string{strings.TrimPrefix(target, "/")},
		}
		if opts.TargetNamespace != "" {
			wrapper["namespace"] = opts.TargetNamespace
		}
		if len(components) > 0 {
			wrapper["components"] = components
		}
		wrapperYAML, err := yaml.Marshal(wrapper)
		if err != nil {
			return nil, fail("%w", err)
		}
		if err := fs.WriteFile("/kustomization.yaml", wrapperYAML); err != nil {
			return nil, fail("%w", err)
		}
		target = "/"
	}

	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(fs, target)
	if err != nil {
		// Paths in kustomize's errors are inside the in-memory tree: show them
		// relative to the source.
		msg := strings.ReplaceAll(err.Error(), srcRoot+"/", "")
		msg = strings.ReplaceAll(msg, strings.TrimPrefix(srcRoot, "/")+"/", "")
		return nil, fail("build: %s", msg)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, fail("serialize output: %w", err)
	}

	text := string(out)
	if len(opts.Values) > 0 {
		text, err = templating.Render(source+" (kustomize output)", text, opts.Values, opts.Funcs)
		if err != nil {
			return nil, fail("substitute values: %w", err)
		}
	}
	objs, err := templating.SplitDocuments(source, text)
	if err != nil {
		return nil, fail("parse output: %w", err)
	}
	return objs, nil
}

// populate writes files (and unpacked archives) under srcRoot.
func populate(fs filesys.FileSystem, files map[string][]byte) error {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic: later archives/files overwrite earlier ones
	for _, key := range keys {
		data := files[key]
		if isArchive(key, data) {
			if err := untar(fs, key, data); err != nil {
				return err
			}
			continue
		}
		rel, err := cleanRel(key)
		if err != nil {
			return fmt.Errorf("key %q: %w", key, err)
		}
		if rel == "" {
			return fmt.Errorf("key %q is not a file name", key)
		}
		if err := writeFile(fs, path.Join(srcRoot, rel), data); err != nil {
			return fmt.Errorf("key %q: %w", key, err)
		}
	}
	return nil
}

func isArchive(key string, data []byte) bool {
	lower := strings.ToLower(key)
	if strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz") || strings.HasSuffix(lower, ".tar") {
		return true
	}
	return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
}

func untar(fs filesys.FileSystem, key string, data []byte) error {
	var r io.Reader = bytes.NewReader(data)
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("archive %q: %w", key, err)
		}
		defer gz.Close()
		r = gz
	}
	tr := tar.NewReader(r)
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive %q: %w", key, err)
		}
		rel, err := cleanRel(hdr.Name)
		if err != nil {
			return fmt.Errorf("archive %q entry %q: %w", key, hdr.Name, err)
		}
		if rel == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := fs.MkdirAll(path.Join(srcRoot, rel)); err != nil {
				return fmt.Errorf("archive %q entry %q: %w", key, hdr.Name, err)
			}
		case tar.TypeReg:
			total += hdr.Size
			if total > MaxArchiveSize {
				return fmt.Errorf("archive %q unpacks to more than %d bytes", key, MaxArchiveSize)
			}
			content, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
			if err != nil {
				return fmt.Errorf("archive %q entry %q: %w", key, hdr.Name, err)
			}
			if err := writeFile(fs, path.Join(srcRoot, rel), content); err != nil {
				return fmt.Errorf("archive %q entry %q: %w", key, hdr.Name, err)
			}
		default:
			// Links and special files have no place in a kustomization: skip them.
		}
	}
}

func writeFile(fs filesys.FileSystem, p string, data []byte) error {
	if err := fs.MkdirAll(path.Dir(p)); err != nil {
		return err
	}
	return fs.WriteFile(p, data)
}

// cleanRel turns p into a clean relative path inside the source ("" for the root),
// refusing anything that climbs out of it.
func cleanRel(p string) (string, error) {
	p = strings.ReplaceAll(p, `\`, "/")
	c := path.Clean("/" + p)
	if strings.Contains(p, "..") {
		// path.Clean("/"+p) cannot climb above "/", so check the raw elements.
		for _, el := range strings.Split(p, "/") {
			if el == ".." {
				return "", fmt.Errorf("path %q leaves the source", p)
			}
		}
	}
	return strings.TrimPrefix(c, "/"), nil
}

// componentDirs resolves the components of Options (relative to the
// kustomization folder dir) to folders of the in-memory tree, as the generated
// wrapper kustomization lists them. Each must stay inside the source and hold a
// kustomization of kind Component.
func componentDirs(fs filesys.FileSystem, dir string, components []string) ([]string, error) {
	out := make([]string, 0, len(components))
	for _, c := range components {
		joined := path.Join(dir, strings.ReplaceAll(c, `\`, "/"))
		if joined == ".." || strings.HasPrefix(joined, "../") {
			return nil, fmt.Errorf("component %q leaves the source", c)
		}
		rel, err := cleanRel(joined)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", c, err)
		}
		folder := path.Join(srcRoot, rel)
		if !fs.IsDir(folder) || !hasKustomization(fs, folder) {
			return nil, fmt.Errorf("component %q: no folder %q with a kustomization.yaml in the source (folders with a kustomization: %s)", c, rel, kustomizationDirs(fs))
		}
		if kind := kustomizationKind(fs, folder); kind != "Component" {
			return nil, fmt.Errorf("component %q: the kustomization in %q has kind %q, a component needs kind Component (apiVersion kustomize.config.k8s.io/v1alpha1)", c, rel, kind)
		}
		out = append(out, strings.TrimPrefix(folder, "/"))
	}
	return out, nil
}

// kustomizationKind is the kind of the kustomization file in dir ("" when unreadable).
func kustomizationKind(fs filesys.FileSystem, dir string) string {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		data, err := fs.ReadFile(path.Join(dir, name))
		if err != nil {
			continue
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(data, &head); err != nil {
			return ""
		}
		return head.Kind
	}
	return ""
}

func hasKustomization(fs filesys.FileSystem, dir string) bool {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if fs.Exists(path.Join(dir, name)) {
			return true
		}
	}
	return false
}

// kustomizationDirs lists the folders of the source holding a kustomization, for errors.
func kustomizationDirs(fs filesys.FileSystem) string {
	var dirs []string
	_ = fs.Walk(srcRoot, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil //nolint:nilerr // best effort listing for an error message
		}
		if info.IsDir() && hasKustomization(fs, p) {
			rel := strings.TrimPrefix(strings.TrimPrefix(p, srcRoot), "/")
			if rel == "" {
				rel = "."
			}
			dirs = append(dirs, rel)
		}
		return nil
	})
	if len(dirs) == 0 {
		return "none"
	}
	sort.Strings(dirs)
	return strings.Join(dirs, ", ")
}
