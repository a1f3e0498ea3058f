package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tugboat-dev/tugboat/internal/devplatform"
)

func newDevCommand() *cobra.Command {
	o := devplatform.Options{Dir: devplatform.DefaultDir(), WorkloadClusters: 1}
	dev := &cobra.Command{Use: "dev", Short: "Run a local Tugboat platform on this machine"}
	dev.PersistentFlags().StringVar(&o.Dir, "dir", o.Dir, "folder for kubeconfigs, logs and state ($TUGBOAT_DEV_DIR)")
	dev.PersistentFlags().StringVar(&o.BinDir, "bin-dir", os.Getenv("KUBEBUILDER_ASSETS"), "folder holding kube-apiserver, etcd and source-controller (default: $KUBEBUILDER_ASSETS, else the cache folder `make testbin` fills)")
	dev.PersistentFlags().StringVar(&o.RepoRoot, "repo", "", "a Tugboat checkout whose test/charts and hack/postgres.sh to use (default: the copies inside tug)")

	up := &cobra.Command{
		Use:   "up [--clusters N]",
		Short: "Start management, services and workload clusters, the manager, and register the clusters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			if err := devplatform.Up(cmd.Context(), o, self, cmd.ErrOrStderr()); err != nil {
				return err
			}
			printDevSummary(cmd.OutOrStdout(), o)
			return nil
		},
	}
	up.Flags().IntVar(&o.WorkloadClusters, "clusters", o.WorkloadClusters, "number of workload clusters")

	down := &cobra.Command{
		Use:   "down",
		Short: "Stop everything `tug dev up` started",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := devplatform.Down(o); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "local platform stopped")
			return nil
		},
	}

	serve := &cobra.Command{
		Use:    "serve",
		Hidden: true, // the background process behind `dev up`
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return devplatform.Serve(cmd.Context(), o)
		},
	}
	serve.Flags().IntVar(&o.WorkloadClusters, "clusters", o.WorkloadClusters, "number of workload clusters")

	var fixtures string
	tutorial := &cobra.Command{
		Use:   "tutorial [--fixtures DIR]",
		Short: "Play the database-as-a-service tutorial on the local platform (after `tug dev up`)",
		Long: `Plays the Sveltos database-as-a-service tutorial on the local platform: its four
manifests (carried inside tug; --fixtures reads them from a folder instead), the
chart repository URL pointed at the platform's local chart repository.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t := &devplatform.Tutorial{Options: o, Out: cmd.OutOrStdout()}
			if fixtures != "" {
				if _, err := os.Stat(fixtures); err != nil {
					return usageError{fmt.Errorf("--fixtures: %w", err)}
				}
				t.Fixtures = os.DirFS(fixtures)
			}
			return t.Run(cmd.Context())
		},
	}
	tutorial.Flags().StringVar(&fixtures, "fixtures", "", "folder with the tutorial's manifests (default: the copy inside tug, as in examples/dbaas)")
	tutorial.AddCommand(&cobra.Command{
		Use:   "gitops",
		Short: "Play the GitOps act on the local platform: a commit travels from Git to the workload cluster",
		Long: `Creates a repository on the local platform's Git server, pushes a deploy/ folder
holding a ConfigMap, creates a Flux GitRepository following it and a ClusterProfile
deploying deploy/ to the workload cluster, waits for the ConfigMap there, then
pushes a change and waits for the new value. Safe to run again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t := &devplatform.Tutorial{Options: o, Out: cmd.OutOrStdout()}
			return t.RunGitOps(cmd.Context())
		},
	})

	dev.AddCommand(up, down, serve, tutorial, newDevRepoCommand(&o))
	return dev
}

func newDevRepoCommand(o *devplatform.Options) *cobra.Command {
	repo := &cobra.Command{Use: "repo", Short: "Git repositories on the local platform's Git server"}
	repo.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create an empty repository (branch main) on the local platform's Git server and print its clone URL",
		Long: `Creates an empty repository on the Git server that ` + "`tug dev up`" + ` runs on loopback and
prints only its clone URL. Pushes need no credentials.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			url, err := o.CreateRepo(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), url)
			return nil
		},
	})
	return repo
}

func printDevSummary(w io.Writer, o devplatform.Options) {
	fmt.Fprintf(w, "Tugboat local platform is up (state in %s).\n\n", o.Dir)
	for _, c := range o.ClusterNames() {
		fmt.Fprintf(w, "  %-10s kubectl --kubeconfig %s get ns\n", c, o.KubeconfigPath(c))
	}
	if url, err := os.ReadFile(filepath.Join(o.Dir, "git.url")); err == nil {
		fmt.Fprintf(w, "\nGit server: %s (tug dev repo create NAME prints a clone URL; pushes need no credentials)\n", strings.TrimSpace(string(url)))
	}
	fmt.Fprintf(w, "\nThe management cluster's registry:\n  kubectl --kubeconfig %s get sveltoscluster -A --show-labels\n", o.KubeconfigPath("mgmt"))
	fmt.Fprintf(w, "Stop it with: tug dev down\n")
}
