package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

func newShowCommand(g *globalOptions) *cobra.Command {
	show := &cobra.Command{
		Use:   "show",
		Short: "Show what the platform deployed, matched and would change",
		Long: `Lists what the platform deployed, matched and would change, one row per object.

In every show command -n/--namespace filters the NAMESPACE column: the namespace
of the listed object (a deployed object, a Helm release, a ConfigMap...), not
the namespace of a cluster. Clusters are selected with --cluster-namespace and
--cluster.`,
	}
	show.AddCommand(newShowAddonsCommand(g), newShowResourcesCommand(g), newShowUsageCommand(g), newShowDryRunCommand(g))
	return show
}

// addNamespaceFlag adds -n/--namespace, the filter on the namespace column of
// the listed objects.
func addNamespaceFlag(cmd *cobra.Command, namespace *string, what, column string) {
	cmd.Flags().StringVarP(namespace, "namespace", "n", "", "only "+what+" in this namespace (the "+column+" column)")
}

// clusterFilter is --cluster-namespace and --cluster: which clusters to look at.
type clusterFilter struct{ namespace, name string }

func addClusterFlags(cmd *cobra.Command, f *clusterFilter) {
	cmd.Flags().StringVar(&f.namespace, "cluster-namespace", "", "only clusters in this namespace")
	cmd.Flags().StringVar(&f.name, "cluster", "", "only clusters with this name")
}

// selectedProfile is the profile that made obj, a ClusterSummary or a
// ClusterReport of the cluster clusterNamespace/clusterName, when both that
// cluster and that profile are among those asked for.
func selectedProfile(obj metav1.Object, clusterNamespace, clusterName string, clusters clusterFilter, pf profileFilter) (configv1beta1.ProfileRef, bool) {
	if !clusters.matches(clusterNamespace, clusterName) {
		return configv1beta1.ProfileRef{}, false
	}
	prof, ok := configv1beta1.ProfileOf(obj)
	if !ok || !pf.matches(prof) {
		return configv1beta1.ProfileRef{}, false
	}
	return prof, true
}

func (f clusterFilter) matches(namespace, name string) bool {
	return (f.namespace == "" || f.namespace == namespace) && (f.name == "" || f.name == name)
}

// inNamespace is the namespace filter: everything when it is empty.
func inNamespace(filter, namespace string) bool { return filter == "" || filter == namespace }

// listing checks the output format of a command that lists, then connects
// to the management cluster.
func (g *globalOptions) listing(output string) (client.Client, error) {
	if err := checkOutput(output); err != nil {
		return nil, err
	}
	return g.client()
}

// profileListing checks the output format and the --profile filter of a
// command that lists what profiles did, then connects to the management cluster.
func (g *globalOptions) profileListing(output, profile string) (client.Client, profileFilter, error) {
	if err := checkOutput(output); err != nil {
		return nil, profileFilter{}, err
	}
	pf, err := parseProfileFilter(profile)
	if err != nil {
		return nil, profileFilter{}, err
	}
	c, err := g.client()
	if err != nil {
		return nil, profileFilter{}, err
	}
	return c, pf, nil
}

// ---- show addons ----

// addonRow is one Helm release or one deployed object in one cluster.
type addonRow struct {
	Cluster      string   `json:"cluster"`
	ResourceType string   `json:"resourceType"`
	Namespace    string   `json:"namespace,omitempty"`
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Time         string   `json:"time,omitempty"`
	Profiles     []string `json:"profiles"`
	// Health is "ok" when the feature that deployed it is Provisioned (its
	// health checks pass), else its status and why: the failing check, the
	// object and the reason.
	Health string `json:"health"`
}

// helmChartType is the RESOURCE TYPE of a Helm release.
const helmChartType = "helm chart"

func newShowAddonsCommand(g *globalOptions) *cobra.Command {
	var namespace, profile, output string
	var clusters clusterFilter
	cmd := &cobra.Command{
		Use:   "addons [-n NS] [--cluster-namespace NS] [--cluster NAME] [--profile KIND/NAME]",
		Short: "List the Helm releases and objects deployed to each cluster, and by which profiles",
		Long: `Lists every Helm release (RESOURCE TYPE "helm chart", VERSION the chart version)
and every object (RESOURCE TYPE <group>:<Kind>; VERSION the revision of the Flux
source its manifest came from, e.g. main@sha1:3f2a…, else N/A) that profiles deployed to managed
clusters, read from the ClusterSummaries and from the clusters themselves.
HEALTH is "ok" when the feature that deployed the row is Provisioned (every
health check passes), else its status and why — the failing check, the object
and the reason (validateHealths), or the error.

` + addonFiltersHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pf, err := g.profileListing(output, profile)
			if err != nil {
				return err
			}
			rows, err := listAddons(cmd.Context(), c, newClusterClients(g, c), namespace, clusters, pf, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return table[addonRow]{
				headers: []string{"cluster", "resource type", "namespace", "name", "version", "time", "profiles", "health"},
				rows:    rows,
				cells: func(r addonRow) []string {
					return []string{r.Cluster, r.ResourceType, r.Namespace, r.Name, r.Version, r.Time, strings.Join(r.Profiles, ", "), r.Health}
				},
			}.print(cmd.OutOrStdout(), output)
		},
	}
	addNamespaceFlag(cmd, &namespace, "Helm releases and objects", "NAMESPACE")
	addClusterFlags(cmd, &clusters)
	cmd.Flags().StringVar(&profile, "profile", "", "only what this profile deployed: ClusterProfile/NAME or Profile/[NAMESPACE/]NAME")
	addOutputFlag(cmd, &output)
	return cmd
}

// addonFiltersHelp ends the help of show addons and show dryrun: what their
// filter flags select.
const addonFiltersHelp = `-n/--namespace selects rows by NAMESPACE, the namespace of the Helm release or
object (cluster-scoped objects have none and are then left out);
--cluster-namespace and --cluster select clusters; --profile is
ClusterProfile/NAME, Profile/NAME or Profile/NAMESPACE/NAME.`

// listAddons lists the Helm releases and objects in namespace (any when empty)
// that profiles deployed to the selected clusters.
// sourceRevision is the VERSION of an object in show addons: the revision of the
// Flux source its manifest came from, as the summary recorded it, else N/A.
func sourceRevision(s *configv1beta1.ClusterSummary, feature libv1beta1.FeatureID, src deployer.Source) string {
	for _, fs := range s.Status.FeatureSummaries {
		if fs.FeatureID != feature {
			continue
		}
		for _, rev := range fs.SourceRevisions {
			if rev.Kind == src.Kind && rev.Namespace == src.Namespace && rev.Name == src.Name {
				return rev.Revision
			}
		}
	}
	return "N/A"
}

func listAddons(ctx context.Context, c client.Client, cc *clusterClients, namespace string, clusters clusterFilter, pf profileFilter, warn io.Writer) ([]addonRow, error) {
	// A ClusterSummary lives in its cluster's namespace.
	summaries := &configv1beta1.ClusterSummaryList{}
	if err := c.List(ctx, summaries, client.InNamespace(clusters.namespace)); err != nil {
		return nil, fmt.Errorf("listing ClusterSummaries: %w", err)
	}
	byKey := map[[4]string]*addonRow{}
	add := func(r addonRow, profile string) {
		if !inNamespace(namespace, r.Namespace) {
			return
		}
		key := [4]string{r.Cluster, r.ResourceType, r.Namespace, r.Name}
		if cur, ok := byKey[key]; ok {
			if !contains(cur.Profiles, profile) {
				cur.Profiles = append(cur.Profiles, profile)
			}
			switch {
			case cur.Health == healthOK:
				cur.Health = r.Health
			case r.Health != healthOK && !strings.Contains(cur.Health, r.Health):
				cur.Health += "; " + r.Health
			}
			if r.Time > cur.Time {
				cur.Time = r.Time
			}
			return
		}
		r.Profiles = []string{profile}
		byKey[key] = &r
	}
	unreachable := map[libv1beta1.ClusterID]bool{}
	for i := range summaries.Items {
		s := &summaries.Items[i]
		prof, ok := selectedProfile(s, s.Spec.ClusterNamespace, s.Spec.ClusterName, clusters, pf)
		if !ok {
			continue
		}
		name := s.Cluster().String()
		spec := &s.Spec.ClusterProfileSpec

		for _, rs := range s.Status.HelmReleaseSummaries {
			if rs.Status != configv1beta1.HelmChartStatusManaging {
				continue
			}
			version := ""
			for _, hc := range spec.HelmCharts {
				if hc.ReleaseName == rs.ReleaseName && hc.ReleaseNamespace == rs.ReleaseNamespace {
					version = hc.ChartVersion
				}
			}
			add(addonRow{
				Cluster: name, ResourceType: helmChartType, Namespace: rs.ReleaseNamespace, Name: rs.ReleaseName,
				Version: version, Time: appliedTime(s, libv1beta1.FeatureHelm), Health: featureHealth(s, libv1beta1.FeatureHelm),
			}, prof.String())
		}

		ref := s.Cluster()
		for _, info := range s.Status.DeployedGVKs {
			if len(info.DeployedGroupVersionKind) == 0 || unreachable[ref] {
				continue
			}
			gvks := make([]schema.GroupVersionKind, 0, len(info.DeployedGroupVersionKind))
			for _, k := range info.DeployedGroupVersionKind {
				if gvk, _ := schema.ParseKindArg(k); gvk != nil {
					gvks = append(gvks, *gvk)
				}
			}
			mc, err := cc.get(ctx, ref)
			if err != nil {
				// One unreachable cluster should not hide the others.
				fmt.Fprintf(warn, "tug: warning: skipping the objects deployed to %s: %v\n", name, err)
				unreachable[ref] = true
				continue
			}
			// The registration matters: several can share one API server.
			owner := deployer.Owner{Kind: prof.Kind, Name: prof.Name, Cluster: ref.String()}
			objs, err := deployer.OwnedObjects(ctx, mc, owner, info.FeatureID, gvks)
			if err != nil {
				fmt.Fprintf(warn, "tug: warning: skipping the objects deployed to %s: %v\n", name, err)
				unreachable[ref] = true
				continue
			}
			for _, o := range objs {
				add(addonRow{
					Cluster: name, ResourceType: resourceType(o.Ref.GroupVersionKind()), Namespace: o.Ref.Namespace, Name: o.Ref.Name,
					Version: sourceRevision(s, info.FeatureID, o.Source), Time: appliedTime(s, info.FeatureID),
					Health: featureHealth(s, info.FeatureID),
				}, prof.String())
			}
		}
	}
	rows := make([]addonRow, 0, len(byKey))
	for _, r := range byKey {
		sort.Strings(r.Profiles)
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, func(a, b addonRow) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.ResourceType, b.ResourceType),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return rows, nil
}

// appliedTime is when a feature of the summary was last deployed, in UTC.
// healthOK is the HEALTH of a row whose feature is Provisioned.
const healthOK = "ok"

// featureHealth is the HEALTH of a feature of a summary: "ok" when it is
// Provisioned, else its status and failure message (for a feature waiting for
// its health checks: which check, which object, why).
func featureHealth(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID) string {
	fs := s.FeatureSummary(id)
	switch {
	case fs == nil:
		return ""
	case fs.Status == libv1beta1.FeatureStatusProvisioned:
		return healthOK
	case fs.FailureMessage != nil:
		return string(fs.Status) + ": " + *fs.FailureMessage
	}
	return string(fs.Status)
}

func appliedTime(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID) string {
	if fs := s.FeatureSummary(id); fs != nil {
		return formatTime(fs.LastAppliedTime)
	}
	return ""
}

func formatTime(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---- show resources ----

// resourceRow is one object an EventSource matches in one cluster.
type resourceRow struct {
	Cluster   string `json:"cluster"`
	GVK       string `json:"gvk"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func newShowResourcesCommand(g *globalOptions) *cobra.Command {
	var group, kind, namespace, output string
	var clusters clusterFilter
	cmd := &cobra.Command{
		Use:   "resources [--group G] [--kind K] [-n NS] [--cluster-namespace NS] [--cluster NAME]",
		Short: "List the objects that EventSources match in each cluster (from EventReports)",
		Long: `Lists the objects that EventSources currently match in managed clusters, as
recorded in the EventReports. --group, --kind and -n/--namespace (the NAMESPACE
column: the object's namespace; cluster-scoped objects have none and are then
left out) select objects; --cluster-namespace and --cluster select clusters.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.listing(output)
			if err != nil {
				return err
			}
			reports := &libv1beta1.EventReportList{}
			// An EventReport lives in its cluster's namespace.
			if err := c.List(cmd.Context(), reports, client.InNamespace(clusters.namespace)); err != nil {
				return fmt.Errorf("listing EventReports: %w", err)
			}
			seen := map[resourceRow]bool{}
			var rows []resourceRow
			for i := range reports.Items {
				r := &reports.Items[i]
				if !clusters.matches(r.Spec.ClusterNamespace, r.Spec.ClusterName) {
					continue
				}
				for _, m := range r.Spec.MatchingResources {
					gvk := schema.FromAPIVersionAndKind(m.APIVersion, m.Kind)
					if (group != "" && gvk.Group != group) || (kind != "" && !strings.EqualFold(gvk.Kind, kind)) || !inNamespace(namespace, m.Namespace) {
						continue
					}
					row := resourceRow{Cluster: clusterName(r.Spec.ClusterNamespace, r.Spec.ClusterName), GVK: gvk.String(), Namespace: m.Namespace, Name: m.Name}
					if !seen[row] {
						seen[row] = true
						rows = append(rows, row)
					}
				}
			}
			slices.SortFunc(rows, func(a, b resourceRow) int {
				return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.GVK, b.GVK),
					cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
			})
			return table[resourceRow]{
				headers: []string{"cluster", "gvk", "namespace", "name"},
				rows:    rows,
				cells:   func(r resourceRow) []string { return []string{r.Cluster, r.GVK, r.Namespace, r.Name} },
			}.print(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().StringVar(&group, "group", "", "only objects of this API group (empty: any; the core group cannot be singled out)")
	cmd.Flags().StringVar(&kind, "kind", "", "only objects of this kind")
	addNamespaceFlag(cmd, &namespace, "objects", "NAMESPACE")
	addClusterFlags(cmd, &clusters)
	addOutputFlag(cmd, &output)
	return cmd
}

// ---- show usage ----

// usageRow is a profile, ConfigMap or Secret and the clusters it is used in.
type usageRow struct {
	Kind      string   `json:"resourceKind"`
	Namespace string   `json:"resourceNamespace,omitempty"`
	Name      string   `json:"resourceName"`
	Clusters  []string `json:"clusters"`
}

func newShowUsageCommand(g *globalOptions) *cobra.Command {
	var kind, namespace, name, output string
	cmd := &cobra.Command{
		Use:   "usage [--kind KIND] [-n NS] [--name NAME]",
		Short: "List the clusters each profile matches and where each referenced ConfigMap/Secret is deployed",
		Long: `For each ClusterProfile and Profile, the clusters it matches; for each ConfigMap and
Secret referenced in policyRefs, the clusters where its content is deployed
(the Resources feature of the referencing profile is Provisioned there).
--kind (ClusterProfile, Profile, ConfigMap, Secret), -n/--namespace and --name
select rows; -n/--namespace is the RESOURCE NAMESPACE column, the namespace of
the Profile, ConfigMap or Secret (ClusterProfiles have none and are then left
out).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.listing(output)
			if err != nil {
				return err
			}
			rows, err := listUsage(cmd.Context(), c)
			if err != nil {
				return err
			}
			var selected []usageRow
			for _, r := range rows {
				if (kind == "" || strings.EqualFold(kind, r.Kind)) && inNamespace(namespace, r.Namespace) && (name == "" || name == r.Name) {
					selected = append(selected, r)
				}
			}
			return table[usageRow]{
				headers: []string{"resource kind", "resource namespace", "resource name", "clusters"},
				rows:    selected,
				cells: func(r usageRow) []string {
					return []string{r.Kind, r.Namespace, r.Name, strings.Join(r.Clusters, ", ")}
				},
			}.print(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "only this kind: ClusterProfile, Profile, ConfigMap or Secret")
	addNamespaceFlag(cmd, &namespace, "Profiles, ConfigMaps and Secrets", "RESOURCE NAMESPACE")
	cmd.Flags().StringVar(&name, "name", "", "only objects with this name")
	addOutputFlag(cmd, &output)
	return cmd
}

func listUsage(ctx context.Context, c client.Client) ([]usageRow, error) {
	type key struct{ kind, namespace, name string }
	used := map[key]map[string]bool{}
	use := func(k key, cluster string) {
		if used[k] == nil {
			used[k] = map[string]bool{}
		}
		if cluster != "" {
			used[k][cluster] = true
		}
	}
	// A profile is used in the clusters it matches (and listed without any).
	useMatching := func(kind string, p configv1beta1.ProfileObject) {
		k := key{kind, p.GetNamespace(), p.GetName()}
		use(k, "")
		for _, ref := range p.GetStatus().MatchingClusterRefs {
			use(k, clusterName(ref.Namespace, ref.Name))
		}
	}
	cps := &configv1beta1.ClusterProfileList{}
	if err := c.List(ctx, cps); err != nil {
		return nil, fmt.Errorf("listing ClusterProfiles: %w", err)
	}
	for i := range cps.Items {
		useMatching(configv1beta1.ClusterProfileKind, &cps.Items[i])
	}
	ps := &configv1beta1.ProfileList{}
	if err := c.List(ctx, ps); err != nil {
		return nil, fmt.Errorf("listing Profiles: %w", err)
	}
	for i := range ps.Items {
		useMatching(configv1beta1.ProfileKind, &ps.Items[i])
	}
	summaries := &configv1beta1.ClusterSummaryList{}
	if err := c.List(ctx, summaries); err != nil {
		return nil, fmt.Errorf("listing ClusterSummaries: %w", err)
	}
	for i := range summaries.Items {
		s := &summaries.Items[i]
		prof, ok := configv1beta1.ProfileOf(s)
		if !ok {
			continue
		}
		fs := s.FeatureSummary(libv1beta1.FeatureResources)
		deployed := fs != nil && fs.Status == libv1beta1.FeatureStatusProvisioned
		for _, ref := range s.Spec.ClusterProfileSpec.PolicyRefs {
			if ref.Kind != "ConfigMap" && ref.Kind != "Secret" {
				continue
			}
			ns := ref.Namespace
			if ns == "" {
				ns = s.Spec.ClusterNamespace
				if prof.Kind == configv1beta1.ProfileKind {
					ns = prof.Namespace
				}
			}
			cluster := ""
			if deployed {
				cluster = clusterName(s.Spec.ClusterNamespace, s.Spec.ClusterName)
			}
			use(key{ref.Kind, ns, ref.Name}, cluster)
		}
	}
	rows := make([]usageRow, 0, len(used))
	for k, set := range used {
		r := usageRow{Kind: k.kind, Namespace: k.namespace, Name: k.name, Clusters: []string{}}
		for cl := range set {
			r.Clusters = append(r.Clusters, cl)
		}
		sort.Strings(r.Clusters)
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b usageRow) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return rows, nil
}

// ---- show dryrun ----

// dryRunRow is what deploying a profile would do to one object in one cluster.
type dryRunRow struct {
	Cluster      string `json:"cluster"`
	ResourceType string `json:"resourceType"`
	Namespace    string `json:"namespace,omitempty"`
	Name         string `json:"name"`
	Action       string `json:"action"`
	Message      string `json:"message,omitempty"`
	Profile      string `json:"profile"`
}

func newShowDryRunCommand(g *globalOptions) *cobra.Command {
	var namespace, profile, output string
	var clusters clusterFilter
	var rawDiff bool
	cmd := &cobra.Command{
		Use:   "dryrun [-n NS] [--cluster-namespace NS] [--cluster NAME] [--profile KIND/NAME] [--raw-diff]",
		Short: "List what profiles in DryRun mode would change in each cluster (from ClusterReports)",
		Long: `Lists, from the ClusterReports, what profiles in DryRun sync mode would create,
update or delete in each cluster. A multi-line message (a diff) is shown in the
table as a pointer to --raw-diff, which prints every report's message as is.

` + addonFiltersHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pf, err := g.profileListing(output, profile)
			if err != nil {
				return err
			}
			rows, err := listDryRun(cmd.Context(), c, namespace, clusters, pf)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if rawDiff {
				for _, r := range rows {
					if r.Message == "" {
						continue
					}
					fmt.Fprintf(out, "Profile: %s Cluster: %s %s %s %s\n", r.Profile, r.Cluster, r.ResourceType, qualified(r.Namespace, r.Name), r.Action)
					fmt.Fprintln(out, strings.TrimRight(r.Message, "\n"))
				}
				return nil
			}
			return table[dryRunRow]{
				headers: []string{"cluster", "resource type", "namespace", "name", "action", "message", "profile"},
				rows:    rows,
				cells: func(r dryRunRow) []string {
					msg := r.Message
					if strings.Contains(strings.TrimRight(msg, "\n"), "\n") && output != outputYAML && output != outputJSON {
						msg = "use --raw-diff to see the full message"
					}
					return []string{r.Cluster, r.ResourceType, r.Namespace, r.Name, r.Action, msg, r.Profile}
				},
			}.print(out, output)
		},
	}
	addNamespaceFlag(cmd, &namespace, "objects and Helm releases", "NAMESPACE")
	addClusterFlags(cmd, &clusters)
	cmd.Flags().StringVar(&profile, "profile", "", "only this profile: ClusterProfile/NAME or Profile/[NAMESPACE/]NAME")
	cmd.Flags().BoolVar(&rawDiff, "raw-diff", false, "print each report's message (a unified diff for updates) as is")
	addOutputFlag(cmd, &output)
	return cmd
}

func qualified(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// listDryRun lists what the ClusterReports of the selected clusters say would
// change in namespace (any when empty).
func listDryRun(ctx context.Context, c client.Client, namespace string, clusters clusterFilter, pf profileFilter) ([]dryRunRow, error) {
	// A ClusterReport lives in its cluster's namespace.
	reports := &configv1beta1.ClusterReportList{}
	if err := c.List(ctx, reports, client.InNamespace(clusters.namespace)); err != nil {
		return nil, fmt.Errorf("listing ClusterReports: %w", err)
	}
	var rows []dryRunRow
	for i := range reports.Items {
		r := &reports.Items[i]
		prof, ok := selectedProfile(r, r.Spec.ClusterNamespace, r.Spec.ClusterName, clusters, pf)
		if !ok {
			continue
		}
		var all []configv1beta1.ResourceReport
		all = append(all, r.Status.ResourceReports...)
		all = append(all, r.Status.HelmResourceReports...)
		all = append(all, r.Status.KustomizeResourceReports...)
		for _, rr := range all {
			row := dryRunRow{
				Cluster: clusterName(r.Spec.ClusterNamespace, r.Spec.ClusterName),
				Action:  string(rr.Action),
				Message: rr.Message,
				Profile: prof.String(),
			}
			if ns, name, ok := helmReleaseReport(rr.Resource); ok {
				row.ResourceType, row.Namespace, row.Name = helmChartType, ns, name
			} else {
				u := &unstructured.Unstructured{}
				if err := yaml.Unmarshal([]byte(rr.Resource), &u.Object); err != nil || u.Object == nil {
					continue // not an object: nothing to name
				}
				row.ResourceType, row.Namespace, row.Name = resourceType(u.GroupVersionKind()), u.GetNamespace(), u.GetName()
			}
			if inNamespace(namespace, row.Namespace) {
				rows = append(rows, row)
			}
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		for _, p := range [][2]string{{a.Cluster, b.Cluster}, {a.Profile, b.Profile}, {a.ResourceType, b.ResourceType}, {a.Namespace, b.Namespace}, {a.Name, b.Name}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
	return rows, nil
}

// helmReleaseReport reads the release of a Helm report's Resource, which the
// profile controller writes as "helm release NAMESPACE/NAME (chart CHART VERSION)".
func helmReleaseReport(resource string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(resource, "helm release ")
	if !found {
		return "", "", false
	}
	release, _, _ := strings.Cut(rest, " ")
	namespace, name, ok = strings.Cut(release, "/")
	return namespace, name, ok && name != ""
}
