package profiles

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// renderedChart is one helmCharts entry with its values rendered for a cluster.
type renderedChart struct {
	chart  libv1beta1.HelmChart
	values map[string]any
	// sources are the valuesFrom objects read, for the hash.
	sources []valuesSource
}

// valuesSource is one valuesFrom object as read.
type valuesSource struct {
	Kind      string            `json:"kind"`
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Data      map[string]string `json:"data"`
}

// deployHelm runs the Helm feature (helmCharts): every chart is installed,
// upgraded or uninstalled in list order, and releases this summary managed that
// are no longer listed are uninstalled. With ContinuousWithDriftDetection the
// objects of every release are watched, and a release whose objects drifted is
// re-applied (only that one) even when nothing else changed.
func (r *SummaryReconciler) deployHelm(ctx context.Context, s *configv1beta1.ClusterSummary, cluster *libv1beta1.SveltosCluster, followUps *[]types.NamespacedName) (ctrl.Result, error) {
	spec := &s.Spec.ClusterProfileSpec
	feature := libv1beta1.FeatureHelm
	if len(spec.HelmCharts) == 0 && len(s.Status.HelmReleaseSummaries) == 0 {
		removeFeature(s, feature)
		return ctrl.Result{}, nil
	}
	if spec.SyncMode == libv1beta1.SyncModeDryRun {
		return r.dryRunHelm(ctx, s, cluster)
	}
	fs := featureSummary(s, feature)
	if spec.SyncMode == libv1beta1.SyncModeOneTime && fs.Status == libv1beta1.FeatureStatusProvisioned {
		return ctrl.Result{}, nil
	}
	if r.Helm == nil {
		return r.fail(s, fs, renderError{errors.New("helm is not configured in this manager")})
	}

	summaryKey := client.ObjectKeyFromObject(s)
	clusterKey := types.NamespacedName{Namespace: cluster.Namespace, Name: cluster.Name}
	driftMode := spec.SyncMode == libv1beta1.SyncModeContinuousWithDriftDetection
	// Releases whose objects drifted; those not repaired below are put back.
	drifted := r.drift.takeHelmDrifted(summaryKey)
	defer func() { r.drift.markHelmDrifted(summaryKey, drifted) }()

	charts, err := r.renderCharts(ctx, cluster, spec.HelmCharts, profileOf(s).referenceNamespace())
	if err != nil {
		return r.fail(s, fs, err)
	}
	listedKeys := map[string]bool{}
	for _, rc := range charts {
		if rc.chart.HelmChartAction != libv1beta1.HelmChartActionUninstall {
			listedKeys[rc.chart.ReleaseNamespace+"/"+rc.chart.ReleaseName] = true
		}
	}
	for k := range drifted {
		if !listedKeys[k] || !driftMode {
			delete(drifted, k)
		}
	}
	hash, err := helmHash(charts)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Arbitration reads only the management cluster, so it runs before the hash
	// check: a profile whose release was taken over must notice even when its own
	// inputs did not change.
	holders, err := r.releaseHolders(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	lost := false
	for _, rc := range charts {
		if h, ok := holders[rc.chart.ReleaseNamespace+"/"+rc.chart.ReleaseName]; ok && !winsOver(spec, h) {
			lost = lost || releaseStatus(s, rc.chart) != configv1beta1.HelmChartStatusConflict
		}
	}
	// After a manager restart the drift watches of the releases are set up again
	// (one Helm read each, no Helm action).
	unwatched := false
	if driftMode {
		for _, rs := range s.Status.HelmReleaseSummaries {
			if rs.Status == configv1beta1.HelmChartStatusManaging && !r.drift.watchingRelease(clusterKey, summaryKey, rs.ReleaseNamespace, rs.ReleaseName) {
				unwatched = true
			}
		}
	}
	if bytes.Equal(fs.Hash, hash) && fs.Status == libv1beta1.FeatureStatusProvisioned && !lost && len(drifted) == 0 && !unwatched {
		return ctrl.Result{}, nil // nothing changed: no Helm call at all
	}

	cfg, err := r.restConfigFor(ctx, clusterKey)
	if err != nil {
		return r.fail(s, fs, err)
	}

	var errs []error
	wanted := map[string]bool{}
	installed, uninstalled := 0, 0
	for _, rc := range charts {
		hc := rc.chart
		key := hc.ReleaseNamespace + "/" + hc.ReleaseName
		if hc.HelmChartAction == libv1beta1.HelmChartActionUninstall {
			r.drift.forgetRelease(clusterKey, summaryKey, hc.ReleaseNamespace, hc.ReleaseName)
			if err := r.Helm.UninstallChart(ctx, cfg, hc); err != nil {
				errs = append(errs, err)
				if !spec.ContinueOnError {
					break
				}
				continue
			}
			removeRelease(s, hc.ReleaseNamespace, hc.ReleaseName)
			uninstalled++
			continue
		}
		wanted[key] = true
		if h, ok := holders[key]; ok {
			if !winsOver(spec, h) {
				msg := fmt.Sprintf("release %s is managed by %s (tier %d); this profile has tier %d", key, h.profile, h.tier, tierOf(spec))
				setRelease(s, configv1beta1.HelmChartSummary{
					ReleaseName: hc.ReleaseName, ReleaseNamespace: hc.ReleaseNamespace,
					Status: configv1beta1.HelmChartStatusConflict, ConflictMessage: msg,
				})
				r.drift.forgetRelease(clusterKey, summaryKey, hc.ReleaseNamespace, hc.ReleaseName)
				r.Metrics.AddConflicts(string(feature), 1)
				if !spec.ContinueOnConflict {
					errs = append(errs, &deployer.ConflictError{Conflict: deployer.Conflict{Message: msg}})
					if !spec.ContinueOnError {
						break
					}
				}
				continue
			}
			// A lower tier takes the release over; the previous holder reports the conflict.
			*followUps = append(*followUps, h.summary)
		}
		apply := r.Helm.Apply
		if drifted[key] {
			apply = r.Helm.Reapply // same chart and values: force an upgrade to restore the objects
		}
		res, err := apply(ctx, cfg, hc, rc.values)
		if err != nil {
			errs = append(errs, err)
			if !spec.ContinueOnError {
				break
			}
			continue
		}
		if res.Action != helm.ActionUnchanged {
			installed++
		}
		delete(drifted, key)
		if driftMode && res.Release != nil {
			if err := r.drift.watchHelm(ctx, clusterKey, summaryKey, hc.ReleaseNamespace, hc.ReleaseName, releaseGVKs(res.Release)); err != nil {
				errs = append(errs, err)
				if !spec.ContinueOnError {
					break
				}
			}
		}
		vh, err := helm.ValuesHash(rc.values)
		if err != nil {
			return ctrl.Result{}, err
		}
		setRelease(s, configv1beta1.HelmChartSummary{
			ReleaseName: hc.ReleaseName, ReleaseNamespace: hc.ReleaseNamespace,
			Status: configv1beta1.HelmChartStatusManaging, ValuesHash: []byte(vh),
		})
	}
	if len(errs) == 0 || spec.ContinueOnError {
		// Releases managed before and no longer listed are uninstalled (an
		// Uninstall entry already removed its own).
		listed := map[string]bool{}
		for _, hc := range spec.HelmCharts {
			listed[hc.ReleaseNamespace+"/"+hc.ReleaseName] = true
		}
		for _, rs := range append([]configv1beta1.HelmChartSummary(nil), s.Status.HelmReleaseSummaries...) {
			if listed[rs.ReleaseNamespace+"/"+rs.ReleaseName] || rs.Status != configv1beta1.HelmChartStatusManaging {
				continue
			}
			r.drift.forgetRelease(clusterKey, summaryKey, rs.ReleaseNamespace, rs.ReleaseName)
			if err := r.Helm.Uninstall(ctx, cfg, rs.ReleaseName, rs.ReleaseNamespace, false); err != nil {
				errs = append(errs, err)
				if !spec.ContinueOnError {
					break
				}
				continue
			}
			removeRelease(s, rs.ReleaseNamespace, rs.ReleaseName)
			uninstalled++
		}
	}
	if len(errs) > 0 {
		return r.fail(s, fs, errors.Join(errs...))
	}
	fs.Status = libv1beta1.FeatureStatusProvisioned
	fs.Hash = hash
	fs.FailureMessage = nil
	fs.ConsecutiveFailures = 0
	now := metav1.Now()
	fs.LastAppliedTime = &now
	if installed > 0 || uninstalled > 0 {
		r.event(s, corev1.EventTypeNormal, "HelmDeployed", fmt.Sprintf("%d Helm releases installed or upgraded, %d uninstalled", installed, uninstalled))
	}
	return ctrl.Result{}, nil
}

// renderCharts renders the values of every chart as a profile-stage template
// and parses them as YAML, then merges the documents of its valuesFrom objects
// in order after them (later wins, maps merged deeply). Every data value of a
// valuesFrom ConfigMap/Secret (in key order) is such a template too.
// referenceNamespace is where valuesFrom entries without a namespace resolve
// (empty: the cluster's namespace).
func (r *SummaryReconciler) renderCharts(ctx context.Context, cluster *libv1beta1.SveltosCluster, charts []libv1beta1.HelmChart, referenceNamespace string) ([]renderedChart, error) {
	clusterMap, err := templating.ClusterMap(cluster)
	if err != nil {
		return nil, err
	}
	defaultNS := cluster.Namespace
	if referenceNamespace != "" {
		defaultNS = referenceNamespace
	}
	pc := templating.NewProfileContext(clusterMap, nil)
	out := make([]renderedChart, 0, len(charts))
	for i, hc := range charts {
		rc := renderedChart{chart: hc, values: map[string]any{}}
		if hc.HelmChartAction == libv1beta1.HelmChartActionUninstall {
			out = append(out, rc)
			continue
		}
		where := fmt.Sprintf("helmCharts[%d] (chart %s, release %s/%s)", i, hc.ChartName, hc.ReleaseNamespace, hc.ReleaseName)
		if strings.TrimSpace(hc.Values) != "" {
			doc, err := renderValues(pc, where+" values", hc.Values)
			if err != nil {
				return nil, err
			}
			rc.values = doc
		}
		for j, vf := range hc.ValuesFrom {
			at := fmt.Sprintf("%s valuesFrom[%d]", where, j)
			src, found, err := r.readValuesFrom(ctx, pc, at, vf, defaultNS)
			if err != nil {
				return nil, err
			}
			if !found {
				continue
			}
			rc.sources = append(rc.sources, src)
			keys := make([]string, 0, len(src.Data))
			for k := range src.Data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if strings.TrimSpace(src.Data[k]) == "" {
					continue
				}
				doc, err := renderValues(pc, fmt.Sprintf("%s (%s %s/%s, key %s)", at, src.Kind, src.Namespace, src.Name, k), src.Data[k])
				if err != nil {
					return nil, err
				}
				rc.values = mergeValues(rc.values, doc)
			}
		}
		out = append(out, rc)
	}
	return out, nil
}

// renderValues renders one values document and parses it as a YAML map.
func renderValues(pc templating.ProfileContext, name, text string) (map[string]any, error) {
	rendered, err := pc.Render(name, text)
	if err != nil {
		return nil, renderError{err}
	}
	values := map[string]any{}
	if err := yaml.Unmarshal([]byte(rendered), &values); err != nil {
		return nil, renderError{fmt.Errorf("%s: parsing YAML: %w", name, err)}
	}
	if values == nil {
		values = map[string]any{}
	}
	return values, nil
}

// readValuesFrom reads one valuesFrom object (its name and namespace are
// templates). found is false for a missing optional one.
func (r *SummaryReconciler) readValuesFrom(ctx context.Context, pc templating.ProfileContext, where string, vf libv1beta1.ValueFrom, defaultNS string) (valuesSource, bool, error) {
	renderName := func(field, v string) (string, error) {
		if !strings.Contains(v, "{{") {
			return v, nil
		}
		out, err := pc.Render(where+"."+field, v)
		if err != nil {
			return "", renderError{err}
		}
		return out, nil
	}
	name, err := renderName("name", vf.Name)
	if err != nil {
		return valuesSource{}, false, err
	}
	ns, err := renderName("namespace", vf.Namespace)
	if err != nil {
		return valuesSource{}, false, err
	}
	if ns == "" {
		ns = defaultNS
	}
	src := valuesSource{Kind: vf.Kind, Namespace: ns, Name: name, Data: map[string]string{}}
	key := types.NamespacedName{Namespace: ns, Name: name}
	switch vf.Kind {
	case "ConfigMap":
		cm := &corev1.ConfigMap{}
		found, err := r.getReference(ctx, key, cm, where, vf.Optional)
		if err != nil || !found {
			return src, false, err
		}
		for k, v := range cm.Data {
			src.Data[k] = v
		}
	case "Secret":
		sec := &corev1.Secret{}
		found, err := r.getReference(ctx, key, sec, where, vf.Optional)
		if err != nil || !found {
			return src, false, err
		}
		for k, v := range sec.Data {
			src.Data[k] = string(v)
		}
	default:
		return src, false, renderError{fmt.Errorf("%s: kind %q is not supported (ConfigMap and Secret are)", where, vf.Kind)}
	}
	return src, true, nil
}

// mergeValues merges src into dst (src wins; maps are merged deeply) and returns dst.
func mergeValues(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// releaseGVKs are the kinds of a release's objects.
func releaseGVKs(rel *helm.Release) []schema.GroupVersionKind {
	seen := map[schema.GroupVersionKind]bool{}
	var out []schema.GroupVersionKind
	for _, o := range rel.Objects {
		gvk := o.GroupVersionKind()
		if gvk.Kind == "" || seen[gvk] {
			continue
		}
		seen[gvk] = true
		out = append(out, gvk)
	}
	return out
}

// helmHash covers the charts' spec, the valuesFrom objects read and the rendered values.
func helmHash(charts []renderedChart) ([]byte, error) {
	type entry struct {
		Chart   libv1beta1.HelmChart `json:"chart"`
		Values  map[string]any       `json:"values"`
		Sources []valuesSource       `json:"sources,omitempty"`
	}
	entries := make([]entry, 0, len(charts))
	for _, rc := range charts {
		entries = append(entries, entry{Chart: rc.chart, Values: rc.values, Sources: rc.sources})
	}
	data, err := json.Marshal(entries)
	if err != nil {
		return nil, fmt.Errorf("hashing helmCharts: %w", err)
	}
	sum := sha256.Sum256(data)
	return sum[:], nil
}

func (r *SummaryReconciler) restConfigFor(ctx context.Context, cluster types.NamespacedName) (*rest.Config, error) {
	conn, err := r.Registry.Get(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	return conn.Config, nil
}

// releaseHolder is another profile managing a release in the same cluster.
type releaseHolder struct {
	summary types.NamespacedName
	profile string
	tier    int32
}

// releaseHolders maps "namespace/name" of each release that another summary of
// the same cluster manages to that summary.
func (r *SummaryReconciler) releaseHolders(ctx context.Context, s *configv1beta1.ClusterSummary) (map[string]releaseHolder, error) {
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	list := &configv1beta1.ClusterSummaryList{}
	// Field indexes exist only in the cache; the API server is asked by namespace and label.
	if err := reader.List(ctx, list, client.InNamespace(s.Spec.ClusterNamespace),
		client.MatchingLabels{configv1beta1.ClusterNameLabel: s.Spec.ClusterName}); err != nil {
		return nil, fmt.Errorf("listing the summaries of cluster %s/%s: %w", s.Spec.ClusterNamespace, s.Spec.ClusterName, err)
	}
	out := map[string]releaseHolder{}
	for i := range list.Items {
		o := &list.Items[i]
		if o.Namespace == s.Namespace && o.Name == s.Name || !o.DeletionTimestamp.IsZero() {
			continue
		}
		p := profileOf(o)
		for _, rs := range o.Status.HelmReleaseSummaries {
			if rs.Status == configv1beta1.HelmChartStatusManaging {
				out[rs.ReleaseNamespace+"/"+rs.ReleaseName] = releaseHolder{
					summary: client.ObjectKeyFromObject(o), profile: p.kind + " " + p.name, tier: tierOf(&o.Spec.ClusterProfileSpec),
				}
			}
		}
	}
	return out, nil
}

// winsOver: a strictly lower tier takes a release over; with equal tiers the
// profile that manages it keeps it.
func winsOver(spec *configv1beta1.Spec, h releaseHolder) bool { return tierOf(spec) < h.tier }

func tierOf(spec *configv1beta1.Spec) int32 {
	if spec.Tier <= 0 {
		return deployer.DefaultTier
	}
	return spec.Tier
}

func releaseStatus(s *configv1beta1.ClusterSummary, hc libv1beta1.HelmChart) configv1beta1.HelmChartStatus {
	for _, rs := range s.Status.HelmReleaseSummaries {
		if rs.ReleaseNamespace == hc.ReleaseNamespace && rs.ReleaseName == hc.ReleaseName {
			return rs.Status
		}
	}
	return ""
}

func setRelease(s *configv1beta1.ClusterSummary, rs configv1beta1.HelmChartSummary) {
	for i := range s.Status.HelmReleaseSummaries {
		cur := &s.Status.HelmReleaseSummaries[i]
		if cur.ReleaseNamespace == rs.ReleaseNamespace && cur.ReleaseName == rs.ReleaseName {
			*cur = rs
			return
		}
	}
	s.Status.HelmReleaseSummaries = append(s.Status.HelmReleaseSummaries, rs)
}

func removeRelease(s *configv1beta1.ClusterSummary, namespace, name string) {
	out := s.Status.HelmReleaseSummaries[:0]
	for _, rs := range s.Status.HelmReleaseSummaries {
		if rs.ReleaseNamespace != namespace || rs.ReleaseName != name {
			out = append(out, rs)
		}
	}
	s.Status.HelmReleaseSummaries = out
}

// withdrawHelm uninstalls the releases a deleted summary manages, unless
// stopMatchingBehavior is LeavePolicies (the releases stay as they are).
func (r *SummaryReconciler) withdrawHelm(ctx context.Context, s *configv1beta1.ClusterSummary, leave bool) error {
	if leave || len(s.Status.HelmReleaseSummaries) == 0 {
		return nil
	}
	if r.Helm == nil {
		return errors.New("helm is not configured in this manager")
	}
	clusterKey := types.NamespacedName{Namespace: s.Spec.ClusterNamespace, Name: s.Spec.ClusterName}
	sc := &libv1beta1.SveltosCluster{}
	if err := r.Client.Get(ctx, clusterKey, sc); apierrors.IsNotFound(err) {
		return nil // the cluster is gone: nothing left to withdraw from
	}
	cfg, err := r.restConfigFor(ctx, clusterKey)
	if err != nil {
		return err
	}
	summaryKey := client.ObjectKeyFromObject(s)
	for _, rs := range s.Status.HelmReleaseSummaries {
		r.drift.forgetRelease(clusterKey, summaryKey, rs.ReleaseNamespace, rs.ReleaseName)
	}
	charts := map[string]libv1beta1.HelmChart{}
	for _, hc := range s.Spec.ClusterProfileSpec.HelmCharts {
		charts[hc.ReleaseNamespace+"/"+hc.ReleaseName] = hc
	}
	var errs []error
	for _, rs := range s.Status.HelmReleaseSummaries {
		if rs.Status != configv1beta1.HelmChartStatusManaging {
			continue
		}
		var err error
		if hc, ok := charts[rs.ReleaseNamespace+"/"+rs.ReleaseName]; ok {
			err = r.Helm.UninstallChart(ctx, cfg, hc)
		} else {
			err = r.Helm.Uninstall(ctx, cfg, rs.ReleaseName, rs.ReleaseNamespace, false)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("withdrawing from cluster %s: %w", clusterKey, err))
		}
	}
	return errors.Join(errs...)
}

// dryRunHelm reports in the ClusterReport what the Helm feature would do to each
// release — install, upgrade, uninstall or nothing — reading the releases only.
func (r *SummaryReconciler) dryRunHelm(ctx context.Context, s *configv1beta1.ClusterSummary, cluster *libv1beta1.SveltosCluster) (ctrl.Result, error) {
	fs := featureSummary(s, libv1beta1.FeatureHelm)
	if r.Helm == nil {
		return r.fail(s, fs, renderError{errors.New("helm is not configured in this manager")})
	}
	prof := profileOf(s)
	charts, err := r.renderCharts(ctx, cluster, s.Spec.ClusterProfileSpec.HelmCharts, prof.referenceNamespace())
	if err != nil {
		return r.fail(s, fs, err)
	}
	cfg, err := r.restConfigFor(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: cluster.Name})
	if err != nil {
		return r.fail(s, fs, err)
	}
	reports := make([]configv1beta1.ResourceReport, 0, len(charts))
	for _, rc := range charts {
		hc := rc.chart
		rr := configv1beta1.ResourceReport{Resource: fmt.Sprintf("helm release %s/%s (chart %s %s)", hc.ReleaseNamespace, hc.ReleaseName, hc.ChartName, hc.ChartVersion)}
		rel, err := r.Helm.Release(ctx, cfg, hc.ReleaseName, hc.ReleaseNamespace)
		switch {
		case errors.Is(err, helm.ErrReleaseNotFound):
			rr.Action = configv1beta1.ReportActionCreate
			if hc.HelmChartAction == libv1beta1.HelmChartActionUninstall {
				rr.Action, rr.Message = configv1beta1.ReportActionNoAction, "not installed"
			}
		case err != nil:
			return r.fail(s, fs, err)
		case hc.HelmChartAction == libv1beta1.HelmChartActionUninstall:
			rr.Action = configv1beta1.ReportActionDelete
		case rel.ChartVersion != hc.ChartVersion:
			rr.Action, rr.Message = configv1beta1.ReportActionUpdate, fmt.Sprintf("chart version %s -> %s", rel.ChartVersion, hc.ChartVersion)
		default:
			vh, err := helm.ValuesHash(rc.values)
			if err != nil {
				return ctrl.Result{}, err
			}
			deployed := rel.RequestedValuesHash
			if deployed == "" {
				deployed = rel.ValuesHash
			}
			rr.Action = configv1beta1.ReportActionNoAction
			if vh != deployed {
				rr.Action, rr.Message = configv1beta1.ReportActionUpdate, "values changed"
			}
		}
		reports = append(reports, rr)
	}
	return ctrl.Result{}, r.writeReport(ctx, s, prof, libv1beta1.FeatureHelm, reports)
}
