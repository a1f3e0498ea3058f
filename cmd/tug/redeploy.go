package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
)

// RedeployAnnotation is set on a profile by `tug redeploy cluster` so that the
// summary controller (which ignores status-only changes of a ClusterSummary)
// looks at the profile's summaries again; its value is when it was asked.
const RedeployAnnotation = "tugboat.dev/redeploy-requested"

func newRedeployCommand(g *globalOptions) *cobra.Command {
	var namespace, name string
	cluster := &cobra.Command{
		Use:   "cluster --namespace NS --cluster NAME",
		Short: "Force every profile deployed to a cluster to be applied again",
		Long: `Forgets what was last deployed to the cluster: clears the hash of every feature of
every ClusterSummary of the cluster (in dependsOn order: a profile after those it
depends on), then marks the owning profiles so the manager reconciles them; each
summary is then deployed again even if nothing changed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.clusterClient(namespace, name)
			if err != nil {
				return err
			}
			done, err := redeployCluster(cmd.Context(), c, namespace, name)
			if err != nil {
				return err
			}
			if len(done) == 0 {
				return fmt.Errorf("no profile is deployed to cluster %s/%s (no ClusterSummary): check the name with kubectl get sveltosclusters -A", namespace, name)
			}
			for _, s := range done {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: redeploy requested (ClusterSummary %s/%s)\n", s.profile, namespace, s.summary)
			}
			return nil
		},
	}
	addSveltosClusterFlags(cluster, &namespace, &name)
	redeploy := &cobra.Command{Use: "redeploy", Short: "Apply again what profiles deploy"}
	redeploy.AddCommand(cluster)
	return redeploy
}

type redeployed struct {
	profile configv1beta1.ProfileRef
	summary string
}

// redeployCluster clears the feature hashes of the cluster's ClusterSummaries in
// dependsOn order and returns them in that order.
func redeployCluster(ctx context.Context, c client.Client, namespace, name string) ([]redeployed, error) {
	list := &configv1beta1.ClusterSummaryList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing ClusterSummaries in %s: %w", namespace, err)
	}
	var summaries []*configv1beta1.ClusterSummary
	for i := range list.Items {
		if s := &list.Items[i]; s.Spec.ClusterNamespace == namespace && s.Spec.ClusterName == name {
			summaries = append(summaries, s)
		}
	}
	var out []redeployed
	for _, s := range dependsOnOrder(summaries) {
		key := client.ObjectKeyFromObject(s)
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur := &configv1beta1.ClusterSummary{}
			if err := c.Get(ctx, key, cur); err != nil {
				return err
			}
			before := cur.DeepCopy()
			for i := range cur.Status.FeatureSummaries {
				cur.Status.FeatureSummaries[i].Hash = nil
			}
			return c.Status().Patch(ctx, cur, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		})
		if err != nil {
			return out, fmt.Errorf("clearing the hashes of ClusterSummary %s: %w", key, err)
		}
		prof, ok := configv1beta1.ProfileOf(s)
		if ok {
			if err := touchProfile(ctx, c, prof); err != nil {
				return out, err
			}
		}
		out = append(out, redeployed{profile: prof, summary: s.Name})
	}
	return out, nil
}

// touchProfile annotates a profile so that the manager reconciles its summaries.
func touchProfile(ctx context.Context, c client.Client, p configv1beta1.ProfileRef) error {
	var obj client.Object = &configv1beta1.ClusterProfile{}
	if p.Kind == configv1beta1.ProfileKind {
		obj = &configv1beta1.Profile{}
	}
	obj.SetNamespace(p.Namespace)
	obj.SetName(p.Name)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, RedeployAnnotation, time.Now().UTC().Format(time.RFC3339Nano))
	if err := c.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil // an orphan summary: nothing to notify
		}
		return fmt.Errorf("marking %s for redeployment: %w", p, err)
	}
	return nil
}

// dependsOnOrder sorts summaries so that a profile comes after the profiles it
// depends on (when they are deployed to the same cluster), by name otherwise.
// A dependency cycle is broken by name order.
func dependsOnOrder(summaries []*configv1beta1.ClusterSummary) []*configv1beta1.ClusterSummary {
	sort.Slice(summaries, func(i, j int) bool { return summaries[i].Name < summaries[j].Name })
	byProfile := map[configv1beta1.ProfileRef]*configv1beta1.ClusterSummary{}
	for _, s := range summaries {
		if p, ok := configv1beta1.ProfileOf(s); ok {
			byProfile[p] = s
		}
	}
	var out []*configv1beta1.ClusterSummary
	state := map[*configv1beta1.ClusterSummary]int{} // 1 visiting, 2 done
	var visit func(s *configv1beta1.ClusterSummary)
	visit = func(s *configv1beta1.ClusterSummary) {
		if state[s] != 0 {
			return
		}
		state[s] = 1
		p, _ := configv1beta1.ProfileOf(s)
		deps := append([]string(nil), s.Spec.ClusterProfileSpec.DependsOn...)
		sort.Strings(deps)
		for _, d := range deps {
			if dep := byProfile[configv1beta1.ProfileRef{Kind: p.Kind, Namespace: p.Namespace, Name: d}]; dep != nil {
				visit(dep)
			}
		}
		state[s] = 2
		out = append(out, s)
	}
	for _, s := range summaries {
		visit(s)
	}
	return out
}
