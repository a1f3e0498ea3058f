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
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// bootstrapFieldManager owns the fields tug bootstrap writes (server-side apply).
const bootstrapFieldManager = "tug-bootstrap"

// gitBootstrap is what `tug bootstrap git` applies.
type gitBootstrap struct {
	url, branch, path, name, namespace string
	interval                           time.Duration
	cluster                            types.NamespacedName
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
	f.StringVar(&b.url, "url", "", "URL of the Git repository (http, https or ssh)")
	f.StringVar(&b.branch, "branch", "main", "branch to follow")
	f.StringVar(&b.path, "path", "platform", "folder of the repository holding the platform's objects")
	f.StringVar(&b.name, "name", "tugboat-platform", "name of the GitRepository and of the ClusterProfile")
	f.StringVarP(&b.namespace, "namespace", "n", "flux-system", "namespace of the GitRepository")
	f.StringVar(&interval, "interval", "1m", "how often Flux's source-controller fetches the repository")
	f.StringVar(&cluster, "management-cluster", managementCluster.String(), "SveltosCluster NAMESPACE/NAME standing for the management cluster")

	bootstrap := &cobra.Command{Use: "bootstrap", Short: "Manage the platform itself from a source"}
	bootstrap.AddCommand(gitCmd)
	return bootstrap
}

// complete checks the flags; every mistake is a usageError.
func (b *gitBootstrap) complete(interval, cluster string) error {
	bad := func(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
	if b.url == "" {
		return bad("--url is required")
	}
	u, err := url.Parse(b.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ssh") || u.Host == "" {
		return bad("--url %q: want an http://, https:// or ssh:// URL", b.url)
	}
	if b.branch == "" {
		return bad("--branch must not be empty")
	}
	if strings.HasPrefix(b.path, "/") || b.path == "" {
		return bad("--path %q: want a folder relative to the repository's root (. for all of it)", b.path)
	}
	clean := path.Clean(b.path)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return bad("--path %q leaves the repository", b.path)
	}
	b.path = clean
	if errs := validation.IsDNS1123Label(b.name); len(errs) > 0 {
		return bad("--name %q: %s", b.name, errs[0])
	}
	if errs := validation.IsDNS1123Label(b.namespace); len(errs) > 0 {
		return bad("--namespace %q: %s", b.namespace, errs[0])
	}
	if b.interval, err = time.ParseDuration(interval); err != nil || b.interval <= 0 {
		return bad("--interval %q: want a positive duration such as 1m or 30s", interval)
	}
	ns, name, ok := strings.Cut(cluster, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return bad("--management-cluster %q: want NAMESPACE/NAME", cluster)
	}
	b.cluster = types.NamespacedName{Namespace: ns, Name: name}
	return nil
}

// gitRepository is the GitRepository the platform follows.
func (b *gitBootstrap) gitRepository() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(sources.GVK(sources.GitRepository))
	u.SetNamespace(b.namespace)
	u.SetName(b.name)
	u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "tug"})
	u.Object["spec"] = map[string]any{
		"url":      b.url,
		"interval": b.interval.String(),
		"ref":      map[string]any{"branch": b.branch},
	}
	return u
}

// clusterProfile is the ClusterProfile deploying the repository's path into the
// management cluster.
func (b *gitBootstrap) clusterProfile() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(configv1beta1.GroupVersion.WithKind(configv1beta1.ClusterProfileKind))
	u.SetName(b.name)
	u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "tug"})
	u.Object["spec"] = map[string]any{
		"clusterRefs": []any{map[string]any{
			"apiVersion": libv1beta1.GroupVersion.String(),
			"kind":       libv1beta1.SveltosClusterKind,
			"namespace":  b.cluster.Namespace,
			"name":       b.cluster.Name,
		}},
		"syncMode":             string(libv1beta1.SyncModeContinuous),
		"stopMatchingBehavior": string(libv1beta1.LeavePolicies),
		"policyRefs": []any{map[string]any{
			"kind":      sources.GitRepository,
			"namespace": b.namespace,
			"name":      b.name,
			"path":      b.path,
		}},
	}
	return u
}

// run applies both objects and says what it did and how to watch it.
func (b *gitBootstrap) run(ctx context.Context, c client.Client, out io.Writer) error {
	sc := &libv1beta1.SveltosCluster{}
	err := c.Get(ctx, b.cluster, sc)
	switch {
	case apierrors.IsNotFound(err):
		fmt.Fprintf(out, "note: SveltosCluster %s does not exist yet; the manager registers the management cluster when it starts (--management-cluster-namespace/-name)\n", b.cluster)
	case err != nil:
		return fmt.Errorf("reading SveltosCluster %s: %w", b.cluster, err)
	}
	if err := clusters.EnsureNamespace(ctx, c, b.namespace); err != nil {
		return err
	}
	repo := b.gitRepository()
	what, err := apply(ctx, c, repo)
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("the management cluster does not serve %s: install Flux's source-controller first (flux install --components=source-controller)", sources.GVK(sources.GitRepository).GroupVersion().WithResource("gitrepositories").GroupResource())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "GitRepository %s/%s %s (%s, branch %s, every %s)\n", b.namespace, b.name, what, b.url, b.branch, b.interval)
	if what, err = apply(ctx, c, b.clusterProfile()); err != nil {
		return err
	}
	fmt.Fprintf(out, "ClusterProfile %s %s (deploys %s/ of the repository into SveltosCluster %s)\n", b.name, what, b.path, b.cluster)
	fmt.Fprintf(out, `
Watch it:
  kubectl get gitrepository -n %[1]s %[2]s                  # the fetched revision
  kubectl get clustersummaries -n %[3]s -owide              # what was deployed from it
  tug show addons --profile ClusterProfile/%[2]s
Fetch a new commit at once:
  kubectl annotate gitrepository -n %[1]s %[2]s --overwrite reconcile.fluxcd.io/requestedAt="$(date +%%s)"
`, b.namespace, b.name, b.cluster.Namespace)
	return nil
}

// apply server-side applies obj (field manager tug-bootstrap, taking over
// conflicting fields) and says whether it was created, configured or left
// unchanged: unchanged when what bootstrap declares (spec, labels, annotations)
// reads the same after as before. The resourceVersion cannot tell, as it also
// moves with writes of others (source-controller's status) between reading and
// applying.
func apply(ctx context.Context, c client.Client, obj *unstructured.Unstructured) (string, error) {
	desc := obj.GetKind() + " " + client.ObjectKeyFromObject(obj).String()
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	exists := true
	switch err := c.Get(ctx, client.ObjectKeyFromObject(obj), live); {
	case apierrors.IsNotFound(err):
		exists = false
	case err != nil:
		return "", fmt.Errorf("reading %s: %w", desc, err)
	}
	if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner(bootstrapFieldManager), client.ForceOwnership); err != nil {
		return "", fmt.Errorf("applying %s: %w", desc, err)
	}
	switch {
	case !exists:
		return "created", nil
	case equality.Semantic.DeepEqual(live.Object["spec"], obj.Object["spec"]) &&
		equality.Semantic.DeepEqual(live.GetLabels(), obj.GetLabels()) &&
		equality.Semantic.DeepEqual(live.GetAnnotations(), obj.GetAnnotations()):
		return "unchanged", nil
	default:
		return "configured", nil
	}
}
