package main

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tugboat-dev/tugboat/internal/devplatform"
)

// starter is the layout `tug init platform` writes: README.md and platform/.
//
//go:embed starter
var starter embed.FS

// starterChartRepository is the repositoryURL the starter's profiles carry,
// standing for the platform's chart repository.
const starterChartRepository = "https://charts.example.com/platform"

// starterLayout is the starter layout: README.md and platform/.
func starterLayout() fs.FS {
	sub, err := fs.Sub(starter, "starter")
	if err != nil {
		panic(err) // the embedded folder is named starter
	}
	return sub
}

func newInitCommand() *cobra.Command {
	var force bool
	var chartRepository string
	platform := &cobra.Command{
		Use:   "platform DIR [--force] [--chart-repository URL]",
		Short: "Write a starter repository for `tug bootstrap git`",
		Long: `Writes into DIR the layout of a repository holding the platform's own
configuration: platform/environments/{development,staging,production} (per
environment, a ClusterProfile selecting clusters labelled env=<environment> that
deploys a namespace, a ConfigMap, a ResourceQuota, a LimitRange, a NetworkPolicy
and the Helm chart platform-baseline), platform/events (an EventSource/EventTrigger
pair), platform/clusters, and a README.md explaining the layout and the bootstrap
command. --chart-repository is the chart repository's URL written into the
profiles (default: a placeholder to replace). Existing files are never
overwritten unless --force is given.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return usageError{errors.New("tug init platform takes one argument, the folder to write (DIR)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if chartRepository != "" {
				if u, err := url.Parse(chartRepository); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "oci") {
					return usageError{fmt.Errorf("--chart-repository %q: want an http://, https:// or oci:// URL", chartRepository)}
				}
			}
			return initPlatform(args[0], force, chartRepository, cmd.OutOrStdout())
		},
	}
	platform.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	platform.Flags().StringVar(&chartRepository, "chart-repository", "", "URL of the chart repository serving platform-baseline (default: "+starterChartRepository+", to replace)")
	initCmd := &cobra.Command{Use: "init", Short: "Write starter layouts"}
	initCmd.AddCommand(platform)
	return initCmd
}

// initPlatform writes the starter layout into dir, with chartRepository (when
// given) in place of starterChartRepository. Without force, it writes nothing
// when any of its files exists (a usageError naming them).
func initPlatform(dir string, force bool, chartRepository string, out io.Writer) error {
	var rewrite func([]byte) []byte
	if chartRepository != "" {
		rewrite = func(data []byte) []byte {
			return []byte(strings.ReplaceAll(string(data), starterChartRepository, chartRepository))
		}
	}
	files, err := devplatform.ReadLayout(starterLayout(), rewrite)
	if err != nil {
		return fmt.Errorf("reading the starter layout: %w", err)
	}
	if !force {
		var existing []string
		for _, f := range files {
			if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path))); err == nil {
				existing = append(existing, f.Path)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("checking %s: %w", filepath.Join(dir, f.Path), err)
			}
		}
		if len(existing) > 0 {
			return usageError{fmt.Errorf("%s already holds %s: not overwritten (use --force to overwrite)", dir, strings.Join(existing, ", "))}
		}
	}
	if err := devplatform.WriteLayout(dir, files, func(target string) { fmt.Fprintf(out, "wrote %s\n", target) }); err != nil {
		return err
	}
	fmt.Fprintf(out, `
Next: commit and push %[1]s to a Git repository, then
  tug bootstrap git --url URL --branch main --path platform
(%[2]s explains the layout).
`, dir, filepath.Join(dir, "README.md"))
	return nil
}
