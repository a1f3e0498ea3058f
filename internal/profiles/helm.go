package profiles

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
}

// deployHelm runs the Helm feature (helmCharts): every chart is installed,
// upgraded or uninstalled in list order, and releases this summary managed that
// are no longer listed are uninstalled. valuesFrom is not supported yet.
func (r *SummaryReconciler) deployHelm(ctx context.Context, s *configv1beta1.ClusterSummary, cluster *libv1beta1.SveltosCluster, followUps *[]types.NamespacedName) (ctrl.Result, error) {
	spec := &s.Spec.ClusterProfileSpec
	feature := libv1beta1.FeatureHelm
	if len(spec.HelmCharts) == 0 && len(s.Status.HelmReleaseSummaries) == 0 {
		removeFeature(s, feature)
		return ctrl.Result{}, nil
	}
	if spec.SyncMode == libv1beta1.SyncModeDryRun {
		// Helm releases are not part of the dry-run report yet: change nothing.
		return ctrl.Result{}, nil
	}
	fs := featureSummary(s, feature)
	if spec.SyncMode == libv1beta1.SyncModeOneTime && fs.Status == libv1beta1.FeatureStatusProvisioned {
		return ctrl.Result{}, nil
	}
	if r.Helm == nil {
		return r.fail(s, fs, renderError{errors.New("helm is not configured in this manager")})
	}

	charts, err := renderCharts(cluster, spec.HelmCharts)
	if err != nil {
		return r.fail(s, fs, err)
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
	if bytes.Equal(fs.Hash, hash) && fs.Status == libv1beta1.FeatureStatusProvisioned && !lost {
		return ctrl.Result{}, nil // nothing changed: no Helm call at all
	}

	clusterKey := types.NamespacedName{Namespace: cluster.Namespace, Name: cluster.Name}
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
		res, err := r.Helm.Apply(ctx, cfg, hc, rc.values)
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
// and parses them as YAML.
func renderCharts(cluster *libv1beta1.SveltosCluster, charts []libv1beta1.HelmChart) ([]renderedChart, error) {
	clusterMap, err := templating.ClusterMap(cluster)
	if err != nil {
		return nil, err
	}
	pc := templating.NewProfileContext(clusterMap, nil)
	out := make([]renderedChart, 0, len(charts))
	for i, hc := range charts {
		rc := renderedChart{chart: hc, values: map[string]any{}}
		if hc.HelmChartAction != libv1beta1.HelmChartActionUninstall && strings.TrimSpace(hc.Values) != "" {
			name := fmt.Sprintf("helmCharts[%d] (%s/%s) values", i, hc.ReleaseNamespace, hc.ReleaseName)
			text, err := pc.Render(name, hc.Values)
			if err != nil {
				return nil, renderError{err}
			}
			if err := yaml.Unmarshal([]byte(text), &rc.values); err != nil {
				return nil, renderError{fmt.Errorf("%s: parsing YAML: %w", name, err)}
			}
			if rc.values == nil {
				rc.values = map[string]any{}
			}
		}
		out = append(out, rc)
	}
	return out, nil
}

// helmHash covers the charts' spec and their rendered values.
func helmHash(charts []renderedChart) ([]byte, error) {
	type entry struct {
		Chart  libv1beta1.HelmChart `json:"chart"`
		Values map[string]any       `json:"values"`
	}
	entries := make([]entry, 0, len(charts))
	for _, rc := range charts {
		entries = append(entries, entry{Chart: rc.chart, Values: rc.values})
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
