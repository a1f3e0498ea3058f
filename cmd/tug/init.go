package main

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// starter is the layout `tug init platform` writes: README.md and platform/.
//
//go:embed starter
var starter embed.FS

func newInitCommand() *cobra.Command {
	var force bool
	platform := &cobra.Command{
		Use:   "platform DIR [--force]",
		Short: "Write a starter repository for `tug bootstrap git`",
		Long: `Writes into DIR the layout of a repository holding the platform's own
configuration: platform/profiles (a ClusterProfile deploying a namespace and a
ConfigMap to clusters labelled env=development), platform/events (an
EventSource/EventTrigger pair), platform/clusters, and a README.md explaining the
layout and the bootstrap command. Existing files are never overwritten unless
--force is given.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return usageError{errors.New("tug init platform takes one argument, the folder to write (DIR)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return initPlatform(args[0], force, cmd.OutOrStdout())
		},
	}
	platform.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	initCmd := &cobra.Command{Use: "init", Short: "Write starter layouts"}
	initCmd.AddCommand(platform)
	return initCmd
}

// initPlatform writes the starter layout into dir. Without force, it writes
// nothing when any of its files exists (a usageError naming them).
func initPlatform(dir string, force bool, out io.Writer) error {
	files := map[string][]byte{}
	var names []string
	err := fs.WalkDir(starter, "starter", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := starter.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "starter/")
		files[name] = data
		names = append(names, name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the starter layout: %w", err)
	}
	if !force {
		var existing []string
		for _, name := range names {
			if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(name))); err == nil {
				existing = append(existing, name)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("checking %s: %w", filepath.Join(dir, name), err)
			}
		}
		if len(existing) > 0 {
			return usageError{fmt.Errorf("%s already holds %s: not overwritten (use --force to overwrite)", dir, strings.Join(existing, ", "))}
		}
	}
	for _, name := range names {
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", filepath.Dir(target), err)
		}
		if err := os.WriteFile(target, files[name], 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", target, err)
		}
		fmt.Fprintf(out, "wrote %s\n", target)
	}
	fmt.Fprintf(out, `
Next: commit and push %[1]s to a Git repository, then
  tug bootstrap git --url URL --branch main --path platform
(%[2]s explains the layout).
`, dir, filepath.Join(dir, "README.md"))
	return nil
}
