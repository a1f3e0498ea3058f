package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/bootstrap"
)

// gitBootstrap is what `tug bootstrap git` applies, from its flags.
type gitBootstrap struct {
	bootstrap.Git
}

func newBootstrapCommand(g *globalOptions) *cobra.Command {
	var b gitBootstrap
	var interval, cluster string
	gitCmd := &cobra.Command{
		Use:   "git --url URL [--branch main] [--path platform] [--name tugboat-platform] [--namespace flux-system] [--interval 1m] [--management-cluster mgmt/mgmt]",
		Short: "Keep the platform's own configuration in sync with a path of a Git repository",
		Long: `Points the management cluster at a Git repository holding the platform itself:
ClusterProfiles, EventSources/EventTriggers, the ConfigMaps and Secrets they
reference, scheduler objects — every YAML/JSON file under --path (and below).

It creates or updates (server-side apply, field manager tug-bootstrap):
  - a Flux GitRepository NAMESPACE/NAME following URL at --branch (Flux's
    source-controller fetches it every --interval);
  - a ClusterProfile NAME whose clusterRefs name the management cluster's
    SveltosCluster (--management-cluster, default mgmt/mgmt) and whose policyRefs
    name that GitRepository and --path.

Tugboat then deploys the files into the management cluster and keeps them in sync
with each new commit: a changed file is applied, a deleted file's object is
deleted (a deleted ClusterProfile withdraws what it deployed in the fleet). The
platform profile stops with stopMatchingBehavior LeavePolicies: deleting it (or
the management cluster no longer matching) releases the objects, which stay as
they are, no longer managed from Git. Running the command again with the same
flags changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := b.complete(interval, cluster); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			return b.run(cmd.Context(), c, cmd.OutOrStdout())
		},
	}
	f := gitCmd.Flags()
	f.StringVar(&b.URL, "url", "", "URL of the Git repository (http, https or ssh)")
	f.StringVar(&b.Branch, "branch", "main", "branch to follow")
	f.StringVar(&b.Path, "path", "platform", "folder of the repository holding the platform's objects")
	f.StringVar(&b.Name, "name", "tugboat-platform", "name of the GitRepository and of the ClusterProfile")
	f.StringVarP(&b.Namespace, "namespace", "n", "flux-system", "namespace of the GitRepository")
	f.StringVar(&interval, "interval", "1m", "how often Flux's source-controller fetches the repository")
	f.StringVar(&cluster, "management-cluster", managementCluster.String(), "SveltosCluster NAMESPACE/NAME standing for the management cluster")

	bootstrap := &cobra.Command{Use: "bootstrap", Short: "Manage the platform itself from a source"}
	bootstrap.AddCommand(gitCmd)
	return bootstrap
}

// complete checks the flags; every mistake is a usageError.
func (b *gitBootstrap) complete(interval, cluster string) error {
	bad := func(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
	if b.URL == "" {
		return bad("--url is required")
	}
	u, err := url.Parse(b.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ssh") || u.Host == "" {
		return bad("--url %q: want an http://, https:// or ssh:// URL", b.URL)
	}
	if b.Branch == "" {
		return bad("--branch must not be empty")
	}
	if strings.HasPrefix(b.Path, "/") || b.Path == "" {
		return bad("--path %q: want a folder relative to the repository's root (. for all of it)", b.Path)
	}
	clean := path.Clean(b.Path)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return bad("--path %q leaves the repository", b.Path)
	}
	b.Path = clean
	if errs := validation.IsDNS1123Label(b.Name); len(errs) > 0 {
		return bad("--name %q: %s", b.Name, errs[0])
	}
	if errs := validation.IsDNS1123Label(b.Namespace); len(errs) > 0 {
		return bad("--namespace %q: %s", b.Namespace, errs[0])
	}
	if b.Interval, err = time.ParseDuration(interval); err != nil || b.Interval <= 0 {
		return bad("--interval %q: want a positive duration such as 1m or 30s", interval)
	}
	ns, name, ok := strings.Cut(cluster, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return bad("--management-cluster %q: want NAMESPACE/NAME", cluster)
	}
	b.Cluster = types.NamespacedName{Namespace: ns, Name: name}
	return nil
}

// run applies both objects and says what it did and how to watch it.
func (b *gitBootstrap) run(ctx context.Context, c client.Client, out io.Writer) error {
	sc := &libv1beta1.SveltosCluster{}
	err := c.Get(ctx, b.Cluster, sc)
	switch {
	case apierrors.IsNotFound(err):
		fmt.Fprintf(out, "note: SveltosCluster %s does not exist yet; the manager registers the management cluster when it starts (--management-cluster-namespace/-name)\n", b.Cluster)
	case err != nil:
		return fmt.Errorf("reading SveltosCluster %s: %w", b.Cluster, err)
	}
	what, err := b.Apply(ctx, c)
	if what.GitRepository != "" {
		fmt.Fprintf(out, "GitRepository %s/%s %s (%s, branch %s, every %s)\n", b.Namespace, b.Name, what.GitRepository, b.URL, b.Branch, b.Interval)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ClusterProfile %s %s (deploys %s/ of the repository into SveltosCluster %s)\n", b.Name, what.ClusterProfile, b.Path, b.Cluster)
	fmt.Fprintf(out, `
Watch it:
  kubectl get gitrepository -n %[1]s %[2]s                  # the fetched revision
  kubectl get clustersummaries -n %[3]s -owide              # what was deployed from it
  tug show addons --profile ClusterProfile/%[2]s
Fetch a new commit at once:
  kubectl annotate gitrepository -n %[1]s %[2]s --overwrite reconcile.fluxcd.io/requestedAt="$(date +%%s)"
`, b.Namespace, b.Name, b.Cluster.Namespace)
	return nil
}
