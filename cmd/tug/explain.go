package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/explain"
)

func newExplainCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Explain why a profile does or does not reach a cluster",
	}
	cmd.AddCommand(newExplainProfileCommand(g))
	return cmd
}

// errNotReached is the error of `tug explain` when the profile does not reach
// the cluster (exit code 1, after the explanation is printed).
var errNotReached = errors.New("does not reach")

func newExplainProfileCommand(g *globalOptions) *cobra.Command {
	var namespace, cluster, output string
	cmd := &cobra.Command{
		Use:   "profile NAME --cluster NAMESPACE/NAME",
		Short: "Explain, step by step, why a ClusterProfile or Profile does or does not reach a cluster",
		Long: `Explains, step by step, why a profile does or does not reach a cluster: the
profile's pause annotation, each clusterSelector term against the cluster's
labels, clusterRefs and setRefs (and what each set selected), the cluster's
readiness, pause and shard, syncMode and tier, its ClusterSummary, maxUpdate
queueing, dependsOn, conflicts with the profile holding the object, each
feature's last result and failure, health checks, and for a generated profile
the EventTrigger, EventSource and source cluster it came from.

NAME is a ClusterProfile; NAMESPACE/NAME (or -n NAMESPACE NAME) a Profile;
ClusterProfile/NAME and Profile/NAMESPACE/NAME are accepted too. --cluster is
NAMESPACE/NAME of a SveltosCluster, or capi:NAMESPACE/NAME of a Cluster API
Cluster.

Each step has a verdict: passes, blocks, waits or n.a. (decides nothing here).
The outcome is "blocked" when a step blocks, else "waiting" when one waits,
else "reaches". -o json (or yaml) prints the explanation for scripts: fields
profile, cluster, outcome, reaches, generatedBy, steps[] (check, verdict,
title, detail, conflict); see docs/explain.md.

Exit code 0 when the profile reaches the cluster, 1 when it does not (blocked
or waiting) or the explanation could not be read, 2 for a usage error.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("tug explain profile takes one argument, the profile: NAME (ClusterProfile), NAMESPACE/NAME or -n NAMESPACE NAME (Profile)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			prof, err := parseExplainProfile(args[0], namespace)
			if err != nil {
				return err
			}
			id, err := parseClusterID(cluster)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			fleet := clusters.Fleet{Reader: c, CAPI: clusters.DetectCAPI(c.RESTMapper())}
			in, err := explain.Load(cmd.Context(), fleet, prof, id)
			if err != nil {
				if apierrors.IsNotFound(err) {
					return fmt.Errorf("%s not found", prof)
				}
				return err
			}
			e := explain.Explain(in)
			if err := printExplanation(cmd.OutOrStdout(), &e, output); err != nil {
				return err
			}
			if !e.Reaches {
				return fmt.Errorf("%s %w %s (%s)", e.Profile, errNotReached, e.Cluster, e.Outcome)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the Profile (without it, NAME is a ClusterProfile)")
	cmd.Flags().StringVar(&cluster, "cluster", "", "the cluster: NAMESPACE/NAME (SveltosCluster) or capi:NAMESPACE/NAME (Cluster API Cluster)")
	cmd.Flags().StringVarP(&output, "output", "o", outputTable, "output format: table, yaml or json")
	return cmd
}

// parseExplainProfile reads the profile argument: NAME (a ClusterProfile, or a
// Profile with -n), NAMESPACE/NAME (a Profile), ClusterProfile/NAME or
// Profile/NAMESPACE/NAME. Kinds are capitalised and namespaces are not, so
// the forms cannot be mistaken for one another.
func parseExplainProfile(arg, namespace string) (configv1beta1.ProfileRef, error) {
	bad := func(why string) error {
		return usageError{fmt.Errorf("profile %q: %s", arg, why)}
	}
	parts := strings.Split(arg, "/")
	var p configv1beta1.ProfileRef
	switch {
	case len(parts) == 2 && parts[0] == configv1beta1.ClusterProfileKind:
		if namespace != "" {
			return p, bad("a ClusterProfile has no namespace; drop -n")
		}
		p = configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind, Name: parts[1]}
	case len(parts) == 3 && parts[0] == configv1beta1.ProfileKind:
		p = configv1beta1.ProfileRef{Kind: configv1beta1.ProfileKind, Namespace: parts[1], Name: parts[2]}
	case len(parts) == 2 && parts[0] == configv1beta1.ProfileKind && namespace != "":
		p = configv1beta1.ProfileRef{Kind: configv1beta1.ProfileKind, Namespace: namespace, Name: parts[1]}
	case len(parts) == 2:
		p = configv1beta1.ProfileRef{Kind: configv1beta1.ProfileKind, Namespace: parts[0], Name: parts[1]}
	case len(parts) == 1 && namespace != "":
		p = configv1beta1.ProfileRef{Kind: configv1beta1.ProfileKind, Namespace: namespace, Name: parts[0]}
	case len(parts) == 1:
		p = configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind, Name: parts[0]}
	default:
		return p, bad("use NAME, NAMESPACE/NAME, ClusterProfile/NAME or Profile/NAMESPACE/NAME")
	}
	if namespace != "" && p.Namespace != namespace {
		return p, bad(fmt.Sprintf("names namespace %s, -n says %s", p.Namespace, namespace))
	}
	if p.Kind == configv1beta1.ProfileKind && len(validation.IsDNS1123Label(p.Namespace)) > 0 {
		return p, bad(fmt.Sprintf("%q is not a namespace", p.Namespace))
	}
	if p.Name == "" {
		return p, bad("the name is empty")
	}
	return p, nil
}

// parseClusterID reads --cluster: NAMESPACE/NAME or capi:NAMESPACE/NAME.
func parseClusterID(s string) (libv1beta1.ClusterID, error) {
	if s == "" {
		return libv1beta1.ClusterID{}, usageError{errors.New("--cluster is required: NAMESPACE/NAME, or capi:NAMESPACE/NAME for a Cluster API cluster")}
	}
	rest, capi := strings.CutPrefix(s, "capi:")
	ns, name, ok := strings.Cut(rest, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return libv1beta1.ClusterID{}, usageError{fmt.Errorf("--cluster %q: want NAMESPACE/NAME, or capi:NAMESPACE/NAME for a Cluster API cluster", s)}
	}
	if capi {
		return libv1beta1.CAPIClusterID(ns, name), nil
	}
	return libv1beta1.SveltosClusterID(ns, name), nil
}

// printExplanation writes the explanation: a headline and a table of steps,
// or the Explanation as JSON or YAML.
func printExplanation(w io.Writer, e *explain.Explanation, format string) error {
	if format == outputJSON || format == outputYAML {
		return printStructured(w, format, e)
	}
	fmt.Fprintln(w, headline(e))
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tVERDICT\tSTEP\tDETAIL")
	flat := strings.NewReplacer("\t", " ", "\n", " ")
	for i, s := range e.Steps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i+1, s.Verdict, flat.Replace(s.Title), flat.Replace(s.Detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(e.Inputs) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Inputs (templateResourceRefs, resolved for this cluster):")
	for _, in := range e.Inputs {
		fmt.Fprintln(w, "  "+flat.Replace(in.Text()))
	}
	return nil
}

// headline is the first line of the table form: the outcome and the step that decides it.
func headline(e *explain.Explanation) string {
	stop := e.Stop()
	if stop == nil {
		return fmt.Sprintf("%s reaches %s", e.Profile, e.Cluster)
	}
	n := 0
	for i := range e.Steps {
		if &e.Steps[i] == stop {
			n = i + 1
		}
	}
	if e.Outcome == explain.Waiting {
		return fmt.Sprintf("%s does not reach %s yet: waiting at step %d (%s)", e.Profile, e.Cluster, n, stop.Title)
	}
	return fmt.Sprintf("%s does not reach %s: blocked at step %d (%s)", e.Profile, e.Cluster, n, stop.Title)
}
