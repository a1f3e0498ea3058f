package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/clusterpromotion"
	"github.com/tugboat-dev/tugboat/internal/promotion"
)

// newPromoteCommand is `tug promote approve ENV`: approve the promotion of the
// control-plane commit waiting to enter environment ENV.
func newPromoteCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "promote",
		Short: "Approve promotions between environments",
	}
	var namespace, commit, stage string
	approve := &cobra.Command{
		Use:   "approve ENV | clusterpromotion/NAME [-n NAMESPACE] [--commit COMMIT] [--stage STAGE]",
		Short: "Approve the commit waiting to be promoted into environment ENV, or the next stage of a ClusterPromotion",
		Long: `Approves the control-plane commit that the environment promoting into ENV
(spec.promotion.next: ENV, mode Manual) waits to pass on: it sets the annotation
` + v1alpha1.ApprovedCommitAnnotation + ` on Environment ENV to that commit (or
to --commit). The promotion happens once the other conditions of the gate hold.

With clusterpromotion/NAME, approves the promotion of ClusterPromotion NAME from
its current stage (or --stage) to the next one: it sets approved: true on that
stage's manual trigger.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if kind, name, ok := strings.Cut(args[0], "/"); ok && strings.EqualFold(strings.TrimSuffix(kind, "s"), "clusterpromotion") {
				from, to, err := clusterpromotion.Approve(cmd.Context(), c, name, stage)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "approved the promotion of ClusterPromotion %s from stage %s to %s; watch it with: kubectl get clusterpromotion %s -o wide\n", name, from, to, name)
				return nil
			}
			if stage != "" {
				return usageError{errors.New("--stage is for clusterpromotion/NAME")}
			}
			return approvePromotion(cmd.Context(), c, cmd.OutOrStdout(), namespace, args[0], commit)
		},
	}
	approve.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the Environments (default: the only namespace with an Environment ENV)")
	approve.Flags().StringVar(&commit, "commit", "", "the commit to approve (default: the one waiting)")
	approve.Flags().StringVar(&stage, "stage", "", "for clusterpromotion/NAME: the stage whose promotion to approve (default: the current one)")
	cmd.AddCommand(approve)
	return cmd
}

// findEnvironment finds Environment name in namespace, or in the only namespace
// that has one when namespace is empty.
func findEnvironment(ctx context.Context, c client.Client, namespace, name string) (*v1alpha1.Environment, error) {
	list := &v1alpha1.EnvironmentList{}
	opts := []client.ListOption{}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing Environments: %w", err)
	}
	var found []*v1alpha1.Environment
	for i := range list.Items {
		if list.Items[i].Name == name {
			found = append(found, &list.Items[i])
		}
	}
	switch len(found) {
	case 0:
		if namespace != "" {
			return nil, fmt.Errorf("no Environment %s in namespace %s", name, namespace)
		}
		return nil, fmt.Errorf("no Environment %s", name)
	case 1:
		return found[0], nil
	}
	return nil, usageError{fmt.Errorf("Environment %s exists in %d namespaces: choose one with -n", name, len(found))}
}

func approvePromotion(ctx context.Context, c client.Client, out io.Writer, namespace, name, commit string) error {
	target, err := findEnvironment(ctx, c, namespace, name)
	if err != nil {
		return err
	}
	list := &v1alpha1.EnvironmentList{}
	if err := c.List(ctx, list, client.InNamespace(target.Namespace)); err != nil {
		return fmt.Errorf("listing Environments: %w", err)
	}
	var from *v1alpha1.Environment
	for i := range list.Items {
		if p := list.Items[i].Spec.Promotion; p != nil && p.Next == name {
			from = &list.Items[i]
		}
	}
	if from == nil {
		return fmt.Errorf("no Environment in namespace %s promotes into %s (spec.promotion.next)", target.Namespace, name)
	}
	if commit == "" {
		if p := from.Status.Promotion; p != nil && p.Commit != "" {
			commit = p.Commit
		}
		if commit == "" {
			return fmt.Errorf("environment %s has no commit waiting for %s yet", from.Name, name)
		}
	} else if len(commit) < promotion.MinApprovalPrefix {
		return usageError{fmt.Errorf("--commit %q: give at least %d characters", commit, promotion.MinApprovalPrefix)}
	}
	before := target.DeepCopy()
	metav1.SetMetaDataAnnotation(&target.ObjectMeta, v1alpha1.ApprovedCommitAnnotation, commit)
	if err := c.Patch(ctx, target, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("approving on Environment %s/%s: %w", target.Namespace, name, err)
	}
	fmt.Fprintf(out, "approved %s for %s (from %s); watch it with: tug schedule status -n %s\n", promotion.Short(commit), name, from.Name, target.Namespace)
	if from.Spec.Promotion.Mode != v1alpha1.PromotionManual {
		fmt.Fprintf(out, "note: %s promotes automatically; the approval is not needed\n", from.Name)
	}
	return nil
}

// statusRow is one environment in `tug schedule status`.
type statusRow struct {
	Namespace   string                       `json:"namespace"`
	Environment string                       `json:"environment"`
	Commit      string                       `json:"commit,omitempty"`
	Compliant   string                       `json:"compliant"`
	Reason      string                       `json:"reason,omitempty"`
	Message     string                       `json:"message,omitempty"`
	Members     string                       `json:"members,omitempty"`
	Next        string                       `json:"next,omitempty"`
	Promotion   string                       `json:"promotion,omitempty"`
	Clusters    []v1alpha1.ClusterCompliance `json:"clusters,omitempty"`
}

func scheduleStatus(ctx context.Context, c client.Client, out io.Writer, namespace, format string, names []string) error {
	if err := checkOutput(format); err != nil {
		return err
	}
	list := &v1alpha1.EnvironmentList{}
	opts := []client.ListOption{}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		return fmt.Errorf("listing Environments: %w", err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var rows []statusRow
	for _, e := range list.Items {
		if len(want) > 0 && !want[e.Name] {
			continue
		}
		row := statusRow{Namespace: e.Namespace, Environment: e.Name, Commit: e.Status.Commit, Compliant: "Unknown",
			Members: e.Status.Members, Clusters: e.Status.Clusters}
		for _, cond := range e.Status.Conditions {
			if cond.Type == v1alpha1.ConditionCompliant {
				row.Compliant, row.Reason, row.Message = string(cond.Status), cond.Reason, cond.Message
			}
		}
		if e.Spec.Promotion != nil {
			row.Next = e.Spec.Promotion.Next
		}
		if p := e.Status.Promotion; p != nil {
			row.Promotion = p.Message
		}
		rows = append(rows, row)
	}
	if len(want) > 0 && len(rows) == 0 {
		return errors.New("no such Environment: " + strings.Join(names, ", "))
	}
	envs := table[statusRow]{
		headers: []string{"namespace", "environment", "commit", "compliant", "members", "next", "promotion"},
		rows:    rows,
		cells: func(r statusRow) []string {
			return []string{r.Namespace, r.Environment, promotion.Short(r.Commit), r.Compliant, r.Members, r.Next, r.Promotion}
		},
	}
	if format != outputTable && format != "" {
		return envs.print(out, format)
	}
	if err := envs.print(out, format); err != nil {
		return err
	}
	type clusterRow struct {
		env string
		v1alpha1.ClusterCompliance
	}
	var clusters []clusterRow
	for _, r := range rows {
		for _, cc := range r.Clusters {
			clusters = append(clusters, clusterRow{env: r.Namespace + "/" + r.Environment, ClusterCompliance: cc})
		}
	}
	if len(clusters) == 0 {
		return nil
	}
	fmt.Fprintln(out)
	return table[clusterRow]{
		headers: []string{"environment", "cluster", "cluster type", "delivery", "revision", "commit", "healthy", "compliant", "message"},
		rows:    clusters,
		cells: func(r clusterRow) []string {
			return []string{r.env, r.Namespace + "/" + r.Name, r.ClusterType, r.Delivery, promotion.Short(r.Revision), promotion.Short(r.Commit),
				fmt.Sprint(r.Healthy), fmt.Sprint(r.Compliant), r.Message}
		},
	}.print(out, format)
}
