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
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// The Helm feature of a summary (helmCharts): values are rendered here, the
// releases are deployed by the Helm release engine (helm.Client.Deploy), and its
// Result is recorded in the summary's status.

// renderedChart is one helmCharts entry with its values rendered for a cluster.
type renderedChart struct {
	helm.Desired
	// sources are the valuesFrom objects read, for the hash.
	sources []valuesSource
}

var errHelmNotConfigured = renderError{errors.New("helm is not configured in this manager")}

// deployHelm runs the Helm feature: every chart is installed, upgraded or
// uninstalled in list order, and releases this summary managed that are no
// longer listed are uninstalled. With ContinuousWithDriftDetection the objects
// of every release are watched, and a release whose objects drifted is
// re-applied (only that one) even when nothing else changed.
func (r *SummaryReconciler) deployHelm(ctx context.Context, run *featureRun) (ctrl.Result, error) {
	s, cluster, followUps := run.s, run.cluster, run.followUps
	spec := &s.Spec.ClusterProfileSpec
	if len(spec.HelmCharts) == 0 && len(s.Status.HelmReleaseSummaries) == 0 {
		removeFeature(s, libv1beta1.FeatureHelm)
		return ctrl.Result{}, nil
	}
	fs := featureSummary(s, libv1beta1.FeatureHelm)
	if spec.SyncMode == libv1beta1.SyncModeOneTime && fs.Status == libv1beta1.FeatureStatusProvisioned {
		return ctrl.Result{}, nil
	}
	if r.Helm == nil {
		return r.fail(s, fs, errHelmNotConfigured)
	}
	prof := profileOf(s)
	clusterKey := cluster.ID
	charts, err := r.renderCharts(ctx, cluster, prof, spec.HelmCharts, run.spec().Patches)
	if err != nil {
		return r.fail(s, fs, err)
	}
	for i := range charts {
		charts[i].ConsecutiveFailures = int(fs.ConsecutiveFailures)
	}
	req := helm.Request{
		Tier: spec.Tier, ContinueOnConflict: spec.ContinueOnConflict, ContinueOnError: spec.ContinueOnError,
		DryRun: spec.SyncMode == libv1beta1.SyncModeDryRun,
	}
	for _, rc := range charts {
		req.Releases = append(req.Releases, rc.Desired)
	}
	if req.DryRun {
		return r.dryRunHelm(ctx, s, fs, prof, clusterKey, req)
	}

	summaryKey := client.ObjectKeyFromObject(s)
	driftMode := spec.SyncMode == libv1beta1.SyncModeContinuousWithDriftDetection
	// Releases whose objects drifted; those not repaired below are put back.
	drifted := r.drift.takeHelmDrifted(summaryKey)
	defer func() { r.drift.markHelmDrifted(summaryKey, drifted) }()
	wanted := map[string]bool{}
	for _, d := range req.Releases {
		if d.Chart.HelmChartAction != libv1beta1.HelmChartActionUninstall {
			wanted[helm.KeyOf(d.Chart).String()] = true
		}
	}
	req.Reapply = map[helm.ReleaseKey]bool{}
	for k := range drifted {
		if !wanted[k] || !driftMode {
			delete(drifted, k)
		}
	}
	for _, d := range req.Releases {
		req.Reapply[helm.KeyOf(d.Chart)] = drifted[helm.KeyOf(d.Chart).String()]
	}
	hash, err := helmHash(charts)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Arbitration reads only the management cluster, so it runs before the hash
	// check: a profile whose release was taken over must notice even when its own
	// inputs did not change.
	if req.Holders, err = r.releaseHolders(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	lost := false
	for _, key := range req.Lost() {
		lost = lost || releaseStatus(s, key) != configv1beta1.HelmChartStatusConflict
	}
	// After a manager restart the drift watches of the releases are set up again
	// (one Helm read each, no Helm action).
	unwatched := false
	for _, rs := range s.Status.HelmReleaseSummaries {
		if rs.Status == configv1beta1.HelmChartStatusManaging {
			req.Previous = append(req.Previous, helm.ReleaseKey{Namespace: rs.ReleaseNamespace, Name: rs.ReleaseName})
			unwatched = unwatched || driftMode && !r.drift.watchingRelease(clusterKey, summaryKey, rs.ReleaseNamespace, rs.ReleaseName)
		}
	}
	if bytes.Equal(fs.Hash, hash) && deployed(fs) && !lost && len(drifted) == 0 && !unwatched {
		return ctrl.Result{}, nil // nothing changed: no Helm call at all
	}

	tenant, err := r.tenantOf(ctx, prof)
	if err != nil {
		return r.fail(s, fs, err)
	}
	cfg, err := r.restConfigAs(ctx, clusterKey, tenant)
	if err != nil {
		return r.fail(s, fs, err)
	}
	res, err := r.Helm.Deploy(ctx, cfg, req)
	errs := []error{err}
	installed, uninstalled, conflicts := 0, 0, 0
	for _, o := range res.Releases {
		key := o.Release
		switch {
		case o.Action == helm.ActionUninstalled:
			r.drift.forgetRelease(clusterKey, summaryKey, key.Namespace, key.Name)
			removeRelease(s, key)
			uninstalled++
		case o.Action == helm.ActionConflict:
			r.drift.forgetRelease(clusterKey, summaryKey, key.Namespace, key.Name)
			setRelease(s, configv1beta1.HelmChartSummary{ReleaseName: key.Name, ReleaseNamespace: key.Namespace,
				Status: configv1beta1.HelmChartStatusConflict, ConflictMessage: o.Conflict})
			conflicts++
		case o.Managed():
			if o.Action != helm.ActionUnchanged {
				installed++
			}
			delete(drifted, key.String())
			if driftMode && o.Deployed != nil {
				errs = append(errs, r.drift.watchHelm(ctx, clusterKey, summaryKey, key.Namespace, key.Name, o.Deployed.Kinds()))
			}
			setRelease(s, configv1beta1.HelmChartSummary{ReleaseName: key.Name, ReleaseNamespace: key.Namespace,
				Status: configv1beta1.HelmChartStatusManaging, ValuesHash: []byte(o.ValuesHash)})
		}
	}
	r.Metrics.AddConflicts(string(libv1beta1.FeatureHelm), conflicts)
	for _, h := range res.Preempted {
		// The previous holder reports the conflict.
		*followUps = append(*followUps, h.Summary)
	}
	if err := errors.Join(errs...); err != nil {
		return r.fail(s, fs, err)
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

// dryRunHelm reports in the ClusterReport what the Helm feature would do to each
// release — install, upgrade, uninstall or nothing — reading the releases only.
func (r *SummaryReconciler) dryRunHelm(ctx context.Context, s *configv1beta1.ClusterSummary, fs *configv1beta1.FeatureSummary, prof configv1beta1.ProfileRef, cluster libv1beta1.ClusterID, req helm.Request) (ctrl.Result, error) {
	cfg, err := r.restConfigFor(ctx, cluster)
	if err != nil {
		return r.fail(s, fs, err)
	}
	res, err := r.Helm.Deploy(ctx, cfg, req)
	if err != nil {
		return r.fail(s, fs, err)
	}
	return ctrl.Result{}, r.writeReport(ctx, s, prof, libv1beta1.FeatureHelm, res.Report)
}

// renderCharts renders the values of every chart as a profile-stage template
// and parses them as YAML, then merges the documents of its valuesFrom objects
// in order after them (later wins, maps merged deeply). Every data value of a
// valuesFrom ConfigMap/Secret (in key order) is such a template too.
// The profile's reference namespace is where valuesFrom entries without a namespace resolve
// (empty: the cluster's namespace).
func (r *SummaryReconciler) renderCharts(ctx context.Context, cluster selection.Cluster, prof configv1beta1.ProfileRef, charts []libv1beta1.HelmChart, patches []libv1beta1.Patch) ([]renderedChart, error) {
	refNS := referenceNamespace(prof)
	clusterMap, err := templating.ClusterMap(cluster.Object)
	if err != nil {
		return nil, err
	}
	defaultNS := cluster.ID.Namespace
	if refNS != "" {
		defaultNS = refNS
	}
	pc := templating.NewProfileContext(clusterMap, nil)
	// The profile's patches apply to the objects of every release (a Helm
	// post-renderer), rendered for the cluster like the values.
	patches, err = renderPatches(patches, pc)
	if err != nil {
		return nil, err
	}
	out := make([]renderedChart, 0, len(charts))
	for i, hc := range charts {
		rc := renderedChart{Desired: helm.Desired{Chart: hc, Values: map[string]any{}, Patches: patches}}
		if hc.HelmChartAction == libv1beta1.HelmChartActionUninstall {
			out = append(out, rc)
			continue
		}
		where := fmt.Sprintf("helmCharts[%d] (chart %s, release %s/%s)", i, hc.ChartName, hc.ReleaseNamespace, hc.ReleaseName)
		// Credentials, CA and provenance keyring come from Secrets of the management cluster.
		if rc.Access, err = helm.ResolveAccess(ctx, r.Client, hc, defaultNS); err != nil {
			return nil, renderError{fmt.Errorf("%s: %s %w", profileName(prof), where, err)}
		}
		if strings.TrimSpace(hc.Values) != "" {
			doc, err := renderValues(pc, where+" values", hc.Values)
			if err != nil {
				return nil, err
			}
			rc.Values = doc
		}
		rc.sources, err = r.renderValuesFrom(ctx, pc, hc.ValuesFrom, defaultNS, func(j int) string {
			return fmt.Sprintf("%s valuesFrom[%d]", where, j)
		})
		if err != nil {
			return nil, err
		}
		for _, src := range rc.sources {
			for _, v := range src.rendered {
				doc, err := parseValues(v.template, v.text)
				if err != nil {
					return nil, err
				}
				rc.Values = mergeValues(rc.Values, doc)
			}
		}
		out = append(out, rc)
	}
	return out, nil
}

// profileName is "ClusterProfile name" or "Profile namespace/name", for messages.
func profileName(p configv1beta1.ProfileRef) string {
	if p.Namespace != "" {
		return p.Kind + " " + p.Namespace + "/" + p.Name
	}
	return p.Kind + " " + p.Name
}

// helmHash covers the charts' spec, the valuesFrom objects read and the rendered values.
func helmHash(charts []renderedChart) ([]byte, error) {
	type entry struct {
		Chart   libv1beta1.HelmChart `json:"chart"`
		Values  map[string]any       `json:"values"`
		Sources []valuesSource       `json:"sources,omitempty"`
		Patches []libv1beta1.Patch   `json:"patches,omitempty"`
		Access  string               `json:"access,omitempty"`
	}
	entries := make([]entry, 0, len(charts))
	for _, rc := range charts {
		entries = append(entries, entry{Chart: rc.Chart, Values: rc.Values, Sources: rc.sources, Patches: rc.Patches, Access: rc.Access.Fingerprint()})
	}
	data, err := json.Marshal(entries)
	if err != nil {
		return nil, fmt.Errorf("hashing helmCharts: %w", err)
	}
	sum := sha256.Sum256(data)
	return sum[:], nil
}

func (r *SummaryReconciler) restConfigFor(ctx context.Context, cluster libv1beta1.ClusterID) (*rest.Config, error) {
	conn, err := r.Registry.Get(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	return conn.Config, nil
}

// releaseHolders maps each release that another summary of the same cluster
// manages to that summary's profile.
func (r *SummaryReconciler) releaseHolders(ctx context.Context, s *configv1beta1.ClusterSummary) (map[helm.ReleaseKey]helm.Holder, error) {
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	list := &configv1beta1.ClusterSummaryList{}
	// Field indexes exist only in the cache; the API server is asked by namespace and label.
	if err := reader.List(ctx, list, client.InNamespace(s.Spec.ClusterNamespace),
		client.MatchingLabels{configv1beta1.ClusterNameLabel: s.Spec.ClusterName, configv1beta1.ClusterTypeLabel: string(s.Cluster().Type)}); err != nil {
		return nil, fmt.Errorf("listing the summaries of cluster %s: %w", s.Cluster(), err)
	}
	out := map[helm.ReleaseKey]helm.Holder{}
	for i := range list.Items {
		o := &list.Items[i]
		if o.Namespace == s.Namespace && o.Name == s.Name || !o.DeletionTimestamp.IsZero() {
			continue
		}
		p := profileOf(o)
		for _, rs := range o.Status.HelmReleaseSummaries {
			if rs.Status == configv1beta1.HelmChartStatusManaging {
				out[helm.ReleaseKey{Namespace: rs.ReleaseNamespace, Name: rs.ReleaseName}] = helm.Holder{
					Owner: p.Kind + " " + p.Name, Tier: o.Spec.ClusterProfileSpec.Tier, Summary: client.ObjectKeyFromObject(o),
				}
			}
		}
	}
	return out, nil
}

func releaseStatus(s *configv1beta1.ClusterSummary, key helm.ReleaseKey) configv1beta1.HelmChartStatus {
	for _, rs := range s.Status.HelmReleaseSummaries {
		if rs.ReleaseNamespace == key.Namespace && rs.ReleaseName == key.Name {
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

func removeRelease(s *configv1beta1.ClusterSummary, key helm.ReleaseKey) {
	out := s.Status.HelmReleaseSummaries[:0]
	for _, rs := range s.Status.HelmReleaseSummaries {
		if rs.ReleaseNamespace != key.Namespace || rs.ReleaseName != key.Name {
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
		return errHelmNotConfigured
	}
	clusterKey := s.Cluster()
	if _, err := r.Fleet.Get(ctx, clusterKey); apierrors.IsNotFound(err) {
		return nil // the cluster is gone: nothing left to withdraw from
	}
	cfg, err := r.restConfigFor(ctx, clusterKey)
	if err != nil {
		return err
	}
	summaryKey := client.ObjectKeyFromObject(s)
	var managed []helm.ReleaseKey
	for _, rs := range s.Status.HelmReleaseSummaries {
		r.drift.forgetRelease(clusterKey, summaryKey, rs.ReleaseNamespace, rs.ReleaseName)
		if rs.Status == configv1beta1.HelmChartStatusManaging {
			managed = append(managed, helm.ReleaseKey{Namespace: rs.ReleaseNamespace, Name: rs.ReleaseName})
		}
	}
	if err := r.Helm.Withdraw(ctx, cfg, s.Spec.ClusterProfileSpec.HelmCharts, managed); err != nil {
		return fmt.Errorf("withdrawing from cluster %s: %w", clusterKey, err)
	}
	return nil
}
