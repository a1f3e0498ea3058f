package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tugboat-dev/tugboat/internal/clusters"
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
pushes a change and waits for the new value.

Then the platform from Git: it pushes the starter layout of ` + "`tug init platform`" + `
(its chart repository pointed at the local one) to the repository tugboat-platform,
bootstraps it as ` + "`tug bootstrap git`" + ` does, creates a cluster staging labelled
env=staging as ` + "`tug dev cluster create`" + ` does, waits for everything
environments/staging defines to arrive there, deletes the cluster and shows that
the registry holds nothing of it. Safe to run again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t := &devplatform.Tutorial{Options: o, Platform: starterLayout(), Out: cmd.OutOrStdout()}
			return t.RunGitOps(cmd.Context())
		},
	})

	var team string
	portal := &cobra.Command{
		Use:   "portal [--team NAME]",
		Short: "Play the portal act on the local platform: CloudEvents create a team's database and give it back",
		Long: `A developer portal's "Create database" button, played with CloudEvents: applies the
database operator's chart and the tutorial's credential triggers, and the portal's
EventSource and EventTrigger (examples/portal, carried inside tug); publishes a
CloudEvent (source portal.example.com, type dev.tugboat.database.requested, subject
the team) on the platform's JetStream stream PORTAL; waits for the PostgreSQL
Cluster db-TEAM in the services cluster and its credentials back in the management
cluster, and connects with them. Then it POSTs a dev.tugboat.database.deleted
CloudEvent for the same team to the manager's HTTP endpoint and waits until the
Cluster and the credentials are gone. Safe to run again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrllog.SetLogger(logr.Discard())
			t := &devplatform.Tutorial{Options: o, Out: cmd.OutOrStdout()}
			if err := t.RunPortal(cmd.Context(), team); errors.Is(err, devplatform.ErrInvalidTeam) {
				return usageError{err}
			} else if err != nil {
				return err
			}
			return nil
		},
	}
	portal.Flags().StringVar(&team, "team", "blue", "the team asking for a database (the CloudEvent's subject)")
	tutorial.AddCommand(portal)

	var keep bool
	scheduling := &cobra.Command{
		Use:   "scheduling [--keep]",
		Short: "Play the multi-cluster scheduling tutorial on the local platform: dev assignments, compliance, promotion to stage",
		Long: `Plays the Kalypso multi-cluster scheduling tutorial from dev to stage on the local
platform (the repositories inside tug, as in examples/kalypso-tutorial): it pushes
the control plane (main, dev, stage), the app team's repository and the platform
GitOps repository to the platform's Git server, creates the clusters drone-dev,
large-dev, drone-stage and large-stage as ` + "`tug dev cluster create`" + ` does, labelled
scheduler.kalypso.io/cluster-type and scheduler.kalypso.io/environment, creates the
Environments dev (promoting automatically to stage) and stage with their
GitOpsRepos, registers the hello-world app on main, and waits for its dev
assignments in the dev clusters, dev compliant, the commit promoted to stage and
the stage assignments in the stage clusters.

No Flux runs inside the local platform's clusters: Tugboat delivers every cluster
type's folder here, and the output says so. Safe to run again: what an earlier
run left is removed first. At the end it deletes its Environments, GitOpsRepos
and clusters, unless --keep.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The act takes minutes: without a logger controller-runtime's clients
			// warn, with a stack, after 30s. The act prints what it does itself.
			ctrllog.SetLogger(logr.Discard())
			t := &devplatform.Tutorial{Options: o, Out: cmd.OutOrStdout()}
			return t.RunScheduling(cmd.Context(), keep)
		},
	}
	scheduling.Flags().BoolVar(&keep, "keep", false, "leave the clusters, Environments and GitOpsRepos running to explore (the next run removes them)")
	tutorial.AddCommand(scheduling)

	dev.AddCommand(up, down, serve, tutorial, newDevRepoCommand(&o), newDevClusterCommand(&o))
	return dev
}

func newDevClusterCommand(o *devplatform.Options) *cobra.Command {
	var labelList string
	create := &cobra.Command{
		Use:   "create NAME [--labels k=v,...]",
		Short: "Start one more cluster on the running local platform and register it as SveltosCluster NAME/NAME",
		Long: `Asks the running local platform (` + "`tug dev up`" + `) for one more real API server,
writes NAME.kubeconfig into the state folder and registers the cluster as
SveltosCluster NAME/NAME (namespace NAME) with the labels, as ` + "`tug register cluster`" + `
does. It returns once the cluster is Ready: profiles selecting its labels deploy
there at once. ` + "`tug dev cluster delete NAME`" + ` undoes it; ` + "`tug dev down`" + ` stops it too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			labels, err := clusters.ParseLabels(labelList)
			if err != nil {
				return usageError{fmt.Errorf("--labels: %w", err)}
			}
			info, err := o.CreateCluster(cmd.Context(), args[0], labels)
			if err != nil {
				return devClusterError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s created and registered as SveltosCluster %s/%s%s\n  kubectl --kubeconfig %s get ns\n",
				info.Name, info.Name, info.Name, labelSuffix(info.Labels), info.Kubeconfig)
			return nil
		},
	}
	create.Flags().StringVar(&labelList, "labels", "", "labels of the SveltosCluster, k=v,k2=v2")

	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Deregister a cluster made by `tug dev cluster create` and stop it",
		Long: `Deregisters the cluster (its SveltosCluster and kubeconfig Secret), waits until
the registry holds nothing of it (no ClusterSummary either), stops its API server
and removes NAME.kubeconfig.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.DeleteCluster(cmd.Context(), args[0]); err != nil {
				return devClusterError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s deregistered and stopped\n", args[0])
			return nil
		},
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List the clusters made by `tug dev cluster create`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			infos, err := o.ListClusters(cmd.Context())
			if err != nil {
				return devClusterError(err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tLABELS\tKUBECONFIG")
			for _, info := range infos {
				fmt.Fprintf(w, "%s\t%s\t%s\n", info.Name, strings.TrimPrefix(labelSuffix(info.Labels), " labelled "), info.Kubeconfig)
			}
			return w.Flush()
		},
	}

	cluster := &cobra.Command{Use: "cluster", Short: "Clusters on request on the local platform"}
	cluster.AddCommand(create, del, list)
	return cluster
}

// devClusterError makes a refused name or label a usageError (exit code 2).
func devClusterError(err error) error {
	if errors.Is(err, devplatform.ErrInvalidCluster) {
		return usageError{err}
	}
	return err
}

// labelSuffix is " labelled k=v,k2=v2" (sorted), or nothing without labels.
func labelSuffix(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	pairs := make([]string, 0, len(labels))
	for k, v := range labels {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return " labelled " + strings.Join(pairs, ",")
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
	if e, err := o.Endpoints(); err == nil {
		fmt.Fprintf(w, "\nDashboard: %s (log in with the token in %s; it is the key token of Secret %s in mgmt)\n",
			e.DashboardURL, filepath.Join(o.Dir, "dashboard.token"), e.DashboardTokenSecret)
		fmt.Fprintf(w, "CloudEvents: NATS with JetStream at %s (token in %s; stream %s, subjects %s), named by the Secret projectsveltos/sveltos-nats in every cluster;\n",
			e.NATSURL, filepath.Join(o.Dir, "nats.token"), devplatform.PortalStream, devplatform.PortalSubjects)
		fmt.Fprintf(w, "  HTTP: POST %s/events/NAMESPACE/CLUSTER with the bearer token in %s (tug dev tutorial portal plays both)\n",
			e.EventsURL, filepath.Join(o.Dir, "events.token"))
	}
	fmt.Fprintf(w, "\nThe management cluster's registry:\n  kubectl --kubeconfig %s get sveltoscluster -A --show-labels\n", o.KubeconfigPath("mgmt"))
	fmt.Fprintf(w, "Stop it with: tug dev down\n")
}
